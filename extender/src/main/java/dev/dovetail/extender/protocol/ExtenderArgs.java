package dev.dovetail.extender.protocol;

import dev.dovetail.api.distribution.PodFacts;
import java.util.List;

/**
 * kube-scheduler's {@code ExtenderArgs}: the pod being scheduled and the nodes that passed the in-tree
 * filters. {@code body} is the request, kept so full-node replies can echo node objects unchanged.
 */
public record ExtenderArgs(PodFacts pod, List<CandidateNode> nodes, boolean nodeCacheMode, byte[] body) {
}
