package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.karpenter.v1.NodeClaim;
import dev.dovetail.api.karpenter.v1.NodeClaimSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExpirationTest {
  private static final Instant CREATED = Instant.parse("2026-12-05T00:00:00Z");

  private static NodeClaim claim(String created, String expireAfter) {
    NodeClaim c = new NodeClaim();
    c.setMetadata(new ObjectMetaBuilder().withName("c").withCreationTimestamp(created).build());
    c.setSpec(new NodeClaimSpec(null, null, List.of(), null, null, null, expireAfter));
    return c;
  }

  @Test
  void aClaimExpiresItsExpireAfterPastItsCreation() {
    NodeClaim c = claim(CREATED.toString(), "1h30m");
    assertThat(Expiration.remaining(c, CREATED.plusSeconds(60))).contains(Duration.ofMinutes(89));
    assertThat(Expiration.expired(c, CREATED.plus(Duration.ofMinutes(90)).minusMillis(1))).isFalse();
    assertThat(Expiration.expired(c, CREATED.plus(Duration.ofMinutes(90)))).isTrue();
    assertThat(Expiration.remaining(c, CREATED.plus(Duration.ofHours(2)))).contains(Duration.ofMinutes(-30));
  }

  @Test
  void neverAndUnreadableValuesDoNotExpire() {
    assertThat(Expiration.remaining(claim(CREATED.toString(), "Never"), CREATED.plus(Duration.ofDays(9999)))).isEmpty();
    assertThat(Expiration.expired(claim(CREATED.toString(), "soon"), CREATED.plus(Duration.ofDays(9999)))).isFalse();
    assertThat(Expiration.expired(claim(CREATED.toString(), null), CREATED.plus(Duration.ofDays(9999)))).isFalse();
    assertThat(Expiration.expired(claim(null, "1s"), CREATED.plus(Duration.ofDays(9999)))).isFalse();
    assertThat(Expiration.expired(claim("yesterday", "1s"), CREATED.plus(Duration.ofDays(9999)))).isFalse();
  }
}
