package dev.dovetail.provisioner.cloud.sim;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sim cloud's faults: the command line's, replaced by a ConfigMap's data while the ConfigMap exists
 * (keys as {@link SimFaults#fromConfigMap}), so a running demo or test can change them. A ConfigMap that
 * cannot be read is logged and ignored.
 */
public final class SimFaultsWatch implements Supplier<SimFaults>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SimFaultsWatch.class);
  private final AtomicReference<SimFaults> current;
  private final SimFaults defaults;
  private SharedIndexInformer<ConfigMap> informer;

  public SimFaultsWatch(SimFaults defaults) {
    this.defaults = defaults;
    this.current = new AtomicReference<>(defaults);
  }

  @Override
  public SimFaults get() {
    return current.get();
  }

  /** Watches {@code [namespace/]name} (the namespace defaults to {@code defaultNamespace}), if given. */
  public SimFaultsWatch start(KubernetesClient client, Optional<String> configMap, String defaultNamespace) {
    if (configMap.isEmpty()) {
      return this;
    }
    String[] parts = configMap.get().split("/", 2);
    String ns = parts.length == 2 ? parts[0] : defaultNamespace;
    String name = parts.length == 2 ? parts[1] : parts[0];
    informer = client.configMaps().inNamespace(ns).withName(name).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ConfigMap cm) {
        changed(cm, ns, name);
      }

      @Override
      public void onUpdate(ConfigMap before, ConfigMap cm) {
        changed(cm, ns, name);
      }

      @Override
      public void onDelete(ConfigMap cm, boolean finalStateUnknown) {
        current.set(defaults);
        LOG.info("ConfigMap {}/{} deleted: sim faults back to {}", ns, name, defaults);
      }
    });
    return this;
  }

  private void changed(ConfigMap cm, String ns, String name) {
    try {
      SimFaults next = SimFaults.fromConfigMap(cm.getData(), defaults);
      current.set(next);
      LOG.info("sim faults from ConfigMap {}/{}: {}", ns, name, next);
    } catch (RuntimeException e) {
      LOG.error("ignoring ConfigMap {}/{}: {}", ns, name, e.getMessage());
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
