package dev.dovetail.provisioner.controller;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named daemon threads for the provisioner's pools: {@code name}, {@code name-2}, ... */
public final class Threads {
  private Threads() {
  }

  public static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, n.getAndIncrement() == 0 ? name : name + "-" + n.get());
      t.setDaemon(true);
      return t;
    };
  }
}
