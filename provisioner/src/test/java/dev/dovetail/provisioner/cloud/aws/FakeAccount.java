package dev.dovetail.provisioner.cloud.aws;

import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An AWS account for one test class: a {@link FakeEc2} and the real SDK's clients pointed at it, started
 * before the class's tests and closed after them. Register it as a static field with
 * {@code @RegisterExtension}; it is ready in the class's {@code @BeforeAll} methods.
 */
final class FakeAccount implements BeforeAllCallback, AfterAllCallback {
  private FakeEc2 ec2;
  private AwsClients aws;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    ec2 = FakeEc2.start();
    System.setProperty("aws.accessKeyId", "testing");
    System.setProperty("aws.secretAccessKey", "testing");
    aws = new AwsClients(Optional.of("us-east-1"), Optional.of(ec2.endpoint()));
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (aws != null) {
      aws.close();
    }
    if (ec2 != null) {
      ec2.close();
    }
  }

  FakeEc2 ec2() {
    return ec2;
  }

  AwsClients aws() {
    return aws;
  }
}
