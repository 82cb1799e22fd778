package dev.dovetail.provisioner.interruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.provisioner.interruption.InterruptionMessage.Kind;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class InterruptionMessageTest {
  static String event(String source, String detailType, String detail) {
    return """
        {"version":"0","id":"7e6f1c2a-0000-4000-8000-000000000001","detail-type":"%s","source":"%s","account":"123456789012",
         "time":"2026-12-04T10:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1a:instance/i-0abc123def4567890"],
         "detail":%s}""".formatted(detailType, source, detail);
  }

  @Test
  void aSpotWarningNamesTheInstanceAndTheReclaimTwoMinutesLater() {
    InterruptionMessage m = InterruptionMessage.parse(event("aws.ec2", "EC2 Spot Instance Interruption Warning",
        "{\"instance-id\":\"i-0abc123def4567890\",\"instance-action\":\"stop\"}"));
    assertThat(m.kind()).isEqualTo(Kind.SPOT_INTERRUPTED);
    assertThat(m.kind().messageType()).isEqualTo("spot_interrupted");
    assertThat(m.instanceIds()).containsExactly("i-0abc123def4567890");
    assertThat(m.eventTime()).isEqualTo(Instant.parse("2026-12-04T10:00:00Z"));
    assertThat(m.effectiveAt()).isEqualTo(Instant.parse("2026-12-04T10:02:00Z"));
    assertThat(m.detail()).isEqualTo("stop");
  }

  @Test
  void aRebalanceRecommendationIsItsOwnKind() {
    InterruptionMessage m = InterruptionMessage.parse(event("aws.ec2", "EC2 Instance Rebalance Recommendation",
        "{\"instance-id\":\"i-0abc123def4567890\"}"));
    assertThat(m.kind()).isEqualTo(Kind.REBALANCE_RECOMMENDATION);
    assertThat(m.instanceIds()).containsExactly("i-0abc123def4567890");
  }

  @ParameterizedTest
  @CsvSource({"stopping,INSTANCE_STOPPED", "stopped,INSTANCE_STOPPED", "shutting-down,INSTANCE_TERMINATED", "terminated,INSTANCE_TERMINATED",
      "pending,NO_OP", "running,NO_OP"})
  void stateChangesOnTheWayOutAreActedOnAndOthersAreNot(String state, Kind kind) {
    InterruptionMessage m = InterruptionMessage.parse(event("aws.ec2", "EC2 Instance State-change Notification",
        "{\"instance-id\":\"i-0abc123def4567890\",\"state\":\"" + state + "\"}"));
    assertThat(m.kind()).isEqualTo(kind);
    assertThat(m.instanceIds()).hasSize(kind == Kind.NO_OP ? 0 : 1);
  }

  @Test
  void anEc2ScheduledChangeNamesEveryAffectedInstanceAndItsStart() {
    InterruptionMessage m = InterruptionMessage.parse(event("aws.health", "AWS Health Event", """
        {"eventArn":"arn:aws:health:us-east-1::event/EC2/EC2_INSTANCE_RETIREMENT_SCHEDULED/x","service":"EC2",
         "eventTypeCode":"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED","eventTypeCategory":"scheduledChange",
         "startTime":"Sat, 05 Dec 2026 18:00:00 GMT","endTime":"Sat, 05 Dec 2026 20:00:00 GMT",
         "affectedEntities":[{"entityValue":"i-0aaa"},{"entityValue":"i-0bbb"},{"entityValue":"vol-1"}]}"""));
    assertThat(m.kind()).isEqualTo(Kind.SCHEDULED_CHANGE);
    assertThat(m.instanceIds()).containsExactly("i-0aaa", "i-0bbb");
    assertThat(m.effectiveAt()).isEqualTo(Instant.parse("2026-12-05T18:00:00Z"));
    assertThat(m.detail()).isEqualTo("AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED");
  }

  @Test
  void healthEventsOfOtherServicesOrCategoriesAreNoOps() {
    assertThat(InterruptionMessage.parse(event("aws.health", "AWS Health Event",
        "{\"service\":\"RDS\",\"eventTypeCategory\":\"scheduledChange\",\"affectedEntities\":[{\"entityValue\":\"i-1\"}]}")).kind())
        .isEqualTo(Kind.NO_OP);
    assertThat(InterruptionMessage.parse(event("aws.health", "AWS Health Event",
        "{\"service\":\"EC2\",\"eventTypeCategory\":\"issue\",\"affectedEntities\":[{\"entityValue\":\"i-1\"}]}")).kind())
        .isEqualTo(Kind.NO_OP);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not json", "[]", "42", "{}", "{\"version\":\"1\",\"source\":\"aws.ec2\",\"detail-type\":\"x\",\"detail\":{}}",
      "{\"version\":\"0\",\"source\":\"aws.ec2\",\"detail-type\":\"EC2 Spot Instance Interruption Warning\",\"time\":\"yesterday\",\"detail\":{}}",
      "{\"version\":\"0\",\"source\":\"aws.ec2\",\"detail-type\":\"EC2 Spot Instance Interruption Warning\",\"time\":\"2026-12-04T10:00:00Z\",\"detail\":{}}",
      "{\"version\":\"0\",\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"time\":\"2026-12-04T10:00:00Z\",\"detail\":{}}"})
  void anythingElseIsANoOpThatSaysWhy(String body) {
    InterruptionMessage m = InterruptionMessage.parse(body);
    assertThat(m.kind()).isEqualTo(Kind.NO_OP);
    assertThat(m.instanceIds()).isEmpty();
    assertThat(m.detail()).isNotBlank();
  }
}
