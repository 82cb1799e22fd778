package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.provisioner.cloud.CloudProviderException;
import dev.dovetail.runtime.Failures;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;

/**
 * What AWS errors mean to the provider, in one place: the error code of a failure however deeply it is
 * wrapped, and which codes say that a thing is not there. A missing instance becomes the cloud
 * contract's {@link CloudProviderException.NotFound}.
 */
final class AwsErrors {
  static final String INSTANCE_NOT_FOUND = "InvalidInstanceID.NotFound";

  private AwsErrors() {
  }

  /** The AWS error code of the failure behind any future wrappers, if it is an AWS service error. */
  static Optional<String> code(Throwable error) {
    Throwable cause = Failures.cause(error);
    if (cause instanceof AwsServiceException e && e.awsErrorDetails() != null) {
      return Optional.ofNullable(e.awsErrorDetails().errorCode());
    }
    return Optional.empty();
  }

  static boolean instanceNotFound(Throwable error) {
    return code(error).filter(INSTANCE_NOT_FOUND::equals).isPresent();
  }

  static boolean launchTemplateNotFound(Throwable error) {
    return code(error).filter(c -> c.startsWith("InvalidLaunchTemplateName.NotFound") || c.startsWith("InvalidLaunchTemplateId.NotFound"))
        .isPresent();
  }

  static boolean launchTemplateExists(Throwable error) {
    return code(error).filter("InvalidLaunchTemplateName.AlreadyExistsException"::equals).isPresent();
  }

  /** IAM's "no such entity" (an instance profile that is not there). */
  static boolean noSuchEntity(Throwable error) {
    return Failures.cause(error) instanceof NoSuchEntityException;
  }

  /** SSM's "parameter not found" (no AMI of that architecture for this version). */
  static boolean parameterNotFound(Throwable error) {
    return Failures.cause(error) instanceof ParameterNotFoundException;
  }

  /**
   * The failure of a call about instance {@code id} as the cloud contract has it: NotFound when EC2 says
   * the instance does not exist, else the failure unwrapped.
   */
  static CompletionException translate(Throwable error, String id) {
    if (instanceNotFound(error)) {
      return new CompletionException(new CloudProviderException.NotFound("instance " + id + " not found"));
    }
    return new CompletionException(Failures.cause(error));
  }
}
