package dev.dovetail.interruption.kube;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS context for the API server from PEM, as kubeconfigs and service accounts hand it over: CA
 * certificates, and an optional client certificate with its key in any of the three PEM forms Kubernetes
 * tooling writes (PKCS#8 {@code PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}).
 * The JDK alone: no BouncyCastle, no client library.
 */
public final class Tls {
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([^-]+)-----END \\1-----");
  private static final char[] NO_PASSWORD = new char[0];
  /** rsaEncryption (1.2.840.113549.1.1.1) and id-ecPublicKey (1.2.840.10045.2.1), DER-encoded. */
  private static final byte[] RSA_OID = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
  private static final byte[] EC_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  /** One PEM block: its type (e.g. {@code CERTIFICATE}) and DER bytes. */
  record Block(String type, byte[] der) {
  }

  private Tls() {
  }

  /**
   * @param caPem trusted CA certificates; empty: the JDK's default trust store
   * @param clientCertPem with {@code clientKeyPem}, the client certificate (chain) to present
   * @param insecure trust any server certificate (kubeconfig {@code insecure-skip-tls-verify}); never for production
   */
  public static SSLContext context(Optional<String> caPem, Optional<String> clientCertPem, Optional<String> clientKeyPem, boolean insecure) {
    try {
      TrustManager[] trust = null;
      if (insecure) {
        trust = new TrustManager[] {new TrustAll()};
      } else if (caPem.isPresent()) {
        KeyStore store = emptyStore();
        int i = 0;
        for (Certificate c : certificates(caPem.get())) {
          store.setCertificateEntry("ca-" + i++, c);
        }
        if (i == 0) {
          throw new IllegalArgumentException("the certificate authority data holds no PEM certificate");
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        trust = tmf.getTrustManagers();
      }
      KeyManager[] keys = null;
      if (clientCertPem.isPresent() != clientKeyPem.isPresent()) {
        throw new IllegalArgumentException("a client certificate needs its key and a key its certificate");
      }
      if (clientCertPem.isPresent()) {
        List<Certificate> chain = certificates(clientCertPem.get());
        if (chain.isEmpty()) {
          throw new IllegalArgumentException("the client certificate data holds no PEM certificate");
        }
        KeyStore store = emptyStore();
        store.setKeyEntry("client", privateKey(clientKeyPem.get()), NO_PASSWORD, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, NO_PASSWORD);
        keys = kmf.getKeyManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, trust, new SecureRandom());
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot build the TLS context for the API server: " + e.getMessage(), e);
    }
  }

  static List<Certificate> certificates(String pem) throws GeneralSecurityException {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<Certificate> out = new ArrayList<>();
    for (Block b : blocks(pem)) {
      if (b.type().equals("CERTIFICATE")) {
        out.add(factory.generateCertificate(new ByteArrayInputStream(b.der())));
      }
    }
    return out;
  }

  /** The first private key in the PEM text, whatever its form. */
  static PrivateKey privateKey(String pem) throws GeneralSecurityException {
    for (Block b : blocks(pem)) {
      switch (b.type()) {
        case "PRIVATE KEY":
          return pkcs8(b.der());
        case "RSA PRIVATE KEY":
          return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
              sequence(integerZero(), sequence(RSA_OID, new byte[] {0x05, 0x00}), octetString(b.der()))));
        case "EC PRIVATE KEY":
          return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
              sequence(integerZero(), sequence(EC_OID, ecCurve(b.der())), octetString(b.der()))));
        default:
          // parameters or certificates in the same file: skip
      }
    }
    throw new IllegalArgumentException("the client key data holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
  }

  static List<Block> blocks(String pem) {
    List<Block> out = new ArrayList<>();
    Matcher m = PEM.matcher(pem);
    while (m.find()) {
      out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2).getBytes(StandardCharsets.US_ASCII))));
    }
    return out;
  }

  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (InvalidKeySpecException notRsa) {
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }
  }

  /**
   * The curve OID of a SEC1 key: {@code SEQUENCE { INTEGER 1, OCTET STRING key, [0] OID curve, [1] BIT STRING pub }}.
   * PKCS#8 wants it in the algorithm identifier.
   */
  static byte[] ecCurve(byte[] sec1) {
    int[] pos = {0};
    expect(sec1, pos, 0x30);
    length(sec1, pos);
    while (pos[0] < sec1.length) {
      int tag = sec1[pos[0]++] & 0xff;
      int len = length(sec1, pos);
      if (tag == 0xa0) {
        byte[] oid = new byte[len];
        System.arraycopy(sec1, pos[0], oid, 0, len);
        return oid;
      }
      pos[0] += len;
    }
    throw new IllegalArgumentException("the EC private key does not name its curve");
  }

  private static void expect(byte[] der, int[] pos, int tag) {
    if ((der[pos[0]++] & 0xff) != tag) {
      throw new IllegalArgumentException("malformed DER in the private key");
    }
  }

  private static int length(byte[] der, int[] pos) {
    int first = der[pos[0]++] & 0xff;
    if (first < 0x80) {
      return first;
    }
    int len = 0;
    for (int i = 0; i < (first & 0x7f); i++) {
      len = (len << 8) | (der[pos[0]++] & 0xff);
    }
    return len;
  }

  private static byte[] integerZero() {
    return new byte[] {0x02, 0x01, 0x00};
  }

  private static byte[] octetString(byte[] content) {
    return tagged(0x04, content);
  }

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      body.writeBytes(p);
    }
    return tagged(0x30, body.toByteArray());
  }

  private static byte[] tagged(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    return store;
  }

  /**
   * For {@code insecure-skip-tls-verify} only. Extended, so the JDK does not wrap it in a host name check
   * (which a plain X509TrustManager gets).
   */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
