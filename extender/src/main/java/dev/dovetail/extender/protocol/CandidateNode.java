package dev.dovetail.extender.protocol;

import java.util.Map;

/**
 * A node kube-scheduler offers. In node-cache mode only the name is sent; in full-node mode the
 * labels come too, and the node's raw JSON is echoed back if it passes the filter.
 *
 * @param raw the node object's bytes in the request (offset and length), or -1 in node-cache mode
 */
public record CandidateNode(String name, Map<String, String> labels, int rawOffset, int rawLength) {
  public static CandidateNode named(String name) {
    return new CandidateNode(name, Map.of(), -1, -1);
  }

  public boolean hasRaw() {
    return rawOffset >= 0;
  }
}
