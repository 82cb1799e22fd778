package dev.dovetail.provisioner.cloud.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.aws.v1.EC2NodeClassSpec.AmiFamily;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserDataTest {
  private static final UserData.Cluster CLUSTER = new UserData.Cluster("prod", "https://ABC.gr7.us-east-1.eks.amazonaws.com", "Q0E=", "10.100.0.0/16");

  @Test
  void al2023GetsANodeConfigAndKeepsTheUsersParts() {
    String user = """
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="BOUNDARY"

        --BOUNDARY
        Content-Type: text/x-shellscript; charset="us-ascii"

        #!/bin/bash
        echo hello
        --BOUNDARY--
        """;
    String data = UserData.render(AmiFamily.AL2023, CLUSTER, null, Map.of("karpenter.sh/nodepool", "general", "team", "a"),
        List.of("dedicated=gpu:NoSchedule", "karpenter.sh/unregistered:NoExecute"), user);
    assertThat(data).startsWith("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"")
        .contains("Content-Type: application/node.eks.aws", "kind: NodeConfig", "name: \"prod\"",
            "apiServerEndpoint: \"https://ABC.gr7.us-east-1.eks.amazonaws.com\"", "cidr: \"10.100.0.0/16\"",
            "--node-labels=karpenter.sh/nodepool=general,team=a", "--register-with-taints=dedicated=gpu:NoSchedule,karpenter.sh/unregistered:NoExecute",
            "#!/bin/bash\necho hello")
        .endsWith("--//--\n");
    // Our config comes first, the user's script after it, each its own part.
    assertThat(data.indexOf("kind: NodeConfig")).isLessThan(data.indexOf("echo hello"));
    assertThat(data.split("(?m)^--//$")).hasSize(3);
  }

  @Test
  void aPlainScriptBecomesAShellPart() {
    assertThat(UserData.userParts("#!/bin/sh\ntouch /x\n")).containsExactly("Content-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/sh\ntouch /x\n");
    assertThat(UserData.userParts("  ")).isEmpty();
  }

  @Test
  void bottlerocketGetsTomlAndCustomIsLeftAlone() {
    String toml = UserData.render(AmiFamily.Bottlerocket, CLUSTER, null, Map.of("karpenter.sh/nodepool", "general"),
        List.of("karpenter.sh/unregistered:NoExecute"), "[settings.host-containers.admin]\nenabled = true");
    assertThat(toml).contains("[settings.kubernetes]", "cluster-name = \"prod\"", "\"karpenter.sh/nodepool\" = \"general\"",
        "\"karpenter.sh/unregistered\" = [\":NoExecute\"]", "[settings.host-containers.admin]");
    assertThat(UserData.render(AmiFamily.Custom, CLUSTER, null, Map.of(), List.of(), "mine")).isEqualTo("mine");
  }

  @Test
  void aliasesNameTheirPublicParameters() {
    assertThat(Selectors.aliasParameter("al2023@latest", "1.34", "amd64"))
        .hasValue("/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/image_id");
    assertThat(Selectors.aliasParameter("al2023@v20251108", "1.34", "arm64"))
        .hasValue("/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/amazon-eks-node-al2023-arm64-standard-1.34-v20251108/image_id");
    assertThat(Selectors.aliasParameter("bottlerocket@latest", "1.34", "arm64")).hasValue("/aws/service/bottlerocket/aws-k8s-1.34/arm64/latest/image_id");
    assertThat(Selectors.aliasParameter("windows2022@latest", "1.34", "amd64")).isEmpty();
  }
}
