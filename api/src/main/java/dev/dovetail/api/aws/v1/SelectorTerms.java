package dev.dovetail.api.aws.v1;

/** CEL shared by the selector terms of an EC2NodeClass. */
final class SelectorTerms {
  private SelectorTerms() {
  }

  static final String TAGS_NOT_EMPTY_RULE = "self.all(k, k != '' && self[k] != '')";
  static final String TAGS_NOT_EMPTY_MESSAGE = "empty tag keys or values aren't supported";
  static final String TAGS_DESCRIPTION = "Tags the resource must carry; a value of '*' matches any value.";
}
