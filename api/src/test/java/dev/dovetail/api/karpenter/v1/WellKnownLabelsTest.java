package dev.dovetail.api.karpenter.v1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WellKnownLabelsTest {
  @Test
  void celListOfSettableAwsKeysMatchesTheJavaList() {
    String inner = WellKnownLabels.AWS_USER_SETTABLE_CEL.substring(1, WellKnownLabels.AWS_USER_SETTABLE_CEL.length() - 1);
    assertThat(Arrays.stream(inner.split(",")).map(s -> s.trim().replace("\"", "")).toList())
        .containsExactlyElementsOf(WellKnownLabels.AWS_USER_SETTABLE);
  }

  @Test
  void betaLabelsNormaliseToStableKeys() {
    assertThat(WellKnownLabels.normalize("failure-domain.beta.kubernetes.io/zone")).isEqualTo(WellKnownLabels.ZONE);
    assertThat(WellKnownLabels.normalize("beta.kubernetes.io/instance-type")).isEqualTo(WellKnownLabels.INSTANCE_TYPE);
    assertThat(WellKnownLabels.normalize("example.com/team")).isEqualTo("example.com/team");
  }

  @Test
  void labelPatternsAcceptKubernetesNamesOnly() {
    assertThat("karpenter.k8s.aws/instance-family").matches(WellKnownLabels.QUALIFIED_NAME_PATTERN);
    assertThat("team").matches(WellKnownLabels.QUALIFIED_NAME_PATTERN);
    assertThat("-team").doesNotMatch(WellKnownLabels.QUALIFIED_NAME_PATTERN);
    assertThat("Example.com/team").doesNotMatch(WellKnownLabels.QUALIFIED_NAME_PATTERN);
    assertThat("").matches(WellKnownLabels.LABEL_VALUE_PATTERN);
    assertThat("m5.large").matches(WellKnownLabels.LABEL_VALUE_PATTERN);
    assertThat("has space").doesNotMatch(WellKnownLabels.LABEL_VALUE_PATTERN);
  }
}
