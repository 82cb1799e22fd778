package dev.dovetail.extender.protocol;

import java.util.List;
import java.util.Map;

/**
 * kube-scheduler's {@code ExtenderFilterResult}: the nodes that pass, and a reason for each that does
 * not. Unresolvable failures are those preemption cannot fix (the wrong capacity type for this replica),
 * so DefaultPreemption does not evict pods there for nothing.
 */
public record FilterResult(List<CandidateNode> passed, Map<String, String> failed, Map<String, String> failedAndUnresolvable, String error) {
  public static FilterResult all(List<CandidateNode> nodes) {
    return new FilterResult(nodes, Map.of(), Map.of(), "");
  }
}
