package dev.dovetail.runtime;

import dev.dovetail.runtime.events.EventRecorder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Map;

/** Sends {@link EventRecorder}'s Events with the fabric8 client. Kept apart from the recorder, which the interrupt listener loads without fabric8. */
final class KubeClientEvents implements EventRecorder.Transport {
  private final KubernetesClient client;

  KubeClientEvents(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public void create(String namespace, Map<String, Object> event) {
    client.v1().events().inNamespace(namespace).resource(toEvent(client.getKubernetesSerialization(), event)).create();
  }

  static Event toEvent(KubernetesSerialization serialization, Map<String, Object> event) {
    return serialization.convertValue(event, Event.class);
  }
}
