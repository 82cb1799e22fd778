package dev.dovetail.extender;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Request bodies shaped exactly like kube-scheduler's, from src/test/resources/requests. */
public final class Requests {
  private Requests() {
  }

  public static byte[] load(String name) {
    try (InputStream in = Requests.class.getResourceAsStream("/requests/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test request " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A node-cache-mode request for a ReplicaSet-owned pod. */
  public static byte[] nodeCache(String namespace, String pod, String uid, String replicaSet, String... nodes) {
    StringBuilder names = new StringBuilder();
    for (String n : nodes) {
      names.append(names.length() == 0 ? "" : ",").append('"').append(n).append('"');
    }
    return ("{\"Pod\":{\"metadata\":{\"name\":\"" + pod + "\",\"namespace\":\"" + namespace + "\",\"uid\":\"" + uid + "\","
        + "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"" + replicaSet
        + "\",\"uid\":\"rs-uid\",\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]},"
        + "\"status\":{\"phase\":\"Pending\"}},\"Nodes\":null,\"NodeNames\":[" + names + "]}").getBytes(StandardCharsets.UTF_8);
  }
}
