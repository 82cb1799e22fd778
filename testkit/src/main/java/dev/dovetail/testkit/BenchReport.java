package dev.dovetail.testkit;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/** Small helpers for benchmark harnesses: percentiles, peak heap and the machine line every report starts with. */
public final class BenchReport {
  private BenchReport() {
  }

  /** Starts the heap's peak over: {@link #peakHeapBytes} reports the most used since. */
  public static void resetPeakHeap() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
  }

  /** The most heap in use since the last {@link #resetPeakHeap}, summed over the heap's pools. */
  public static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  public static double percentileMicros(long[] nanos, double p) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100.0 * sorted.length) - 1));
    return sorted[i] / 1000.0;
  }

  public static String machine() {
    String cpu = "unknown CPU";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
    } catch (IOException e) {
      // not Linux: keep the placeholder
    }
    return String.format("%s, %d cores, Java %s, max heap %d MiB, %s", cpu, Runtime.getRuntime().availableProcessors(),
        Runtime.version(), Runtime.getRuntime().maxMemory() >> 20,
        ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " (" + ManagementFactory.getRuntimeMXBean().getVmName() + ")");
  }
}
