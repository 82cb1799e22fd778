package dev.dovetail.interruption.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Keys in the three PEM forms Kubernetes tooling writes (made with openssl), read with the JDK alone. */
class TlsTest {
  static String resource(String name) {
    try (InputStream in = TlsTest.class.getResourceAsStream("/kube/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void readsPkcs1RsaSec1EcAndPkcs8Keys() throws Exception {
    assertMatches(Tls.privateKey(resource("rsa.key")), "SHA256withRSA", resource("rsa.crt"));
    assertMatches(Tls.privateKey(resource("ec.key")), "SHA256withECDSA", resource("ec.crt"));
    assertMatches(Tls.privateKey(resource("ec8.key")), "SHA256withECDSA", resource("ec.crt"));
  }

  @Test
  void findsTheKeyAmongOtherBlocks() throws Exception {
    // openssl ecparam -genkey without -noout writes the curve parameters first.
    String withParameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + resource("ec.key");
    assertMatches(Tls.privateKey(withParameters), "SHA256withECDSA", resource("ec.crt"));
  }

  @Test
  void buildsContextsAndRejectsIncompleteInput() {
    assertThat(Tls.context(Optional.of(resource("rsa.crt")), Optional.of(resource("rsa.crt")), Optional.of(resource("rsa.key")), false)
        .getProtocol()).isEqualTo("TLS");
    assertThat(Tls.context(Optional.empty(), Optional.empty(), Optional.empty(), true)).isNotNull();
    assertThatThrownBy(() -> Tls.context(Optional.empty(), Optional.of(resource("rsa.crt")), Optional.empty(), false))
        .hasMessageContaining("needs its key");
    assertThatThrownBy(() -> Tls.context(Optional.of("not a certificate"), Optional.empty(), Optional.empty(), false))
        .hasMessageContaining("no PEM certificate");
    assertThatThrownBy(() -> Tls.privateKey(resource("rsa.crt"))).hasMessageContaining("no PEM private key");
  }

  /** The key signs what the certificate's public key verifies. */
  private static void assertMatches(PrivateKey key, String algorithm, String certPem) throws Exception {
    Certificate cert = Tls.certificates(certPem).get(0);
    byte[] data = "dovetail".getBytes(StandardCharsets.UTF_8);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(data);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(data);
    assertThat(verifier.verify(signature)).isTrue();
  }
}
