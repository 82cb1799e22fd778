package dev.dovetail.api.scheduling;

import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * TEST REFERENCE: the simulation as it was before it was optimised for scale (a plain first-fit over
 * nodes, open claims and new claims, every check made in full), kept to check that the optimised
 * {@link Scheduler} gives the same answers. Do not optimise it.
 *
 * <p>* The instance options a claim can still become, kept as arrays of their allocatable CPU, memory and
 * pods: checking which still fit is the simulation's innermost loop, and comparing longs in arrays is
 * many times cheaper than walking resource maps.
 */
final class ReferenceOptionSet {
  private InstanceOption[] options;
  private long[] cpu;
  private long[] memory;
  private long[] pods;
  private int size;

  ReferenceOptionSet(List<InstanceOption> options) {
    this.size = options.size();
    this.options = options.toArray(new InstanceOption[0]);
    this.cpu = new long[size];
    this.memory = new long[size];
    this.pods = new long[size];
    for (int i = 0; i < size; i++) {
      Resources a = this.options[i].allocatable();
      cpu[i] = a.cpuMillis();
      memory[i] = a.memoryBytes();
      pods[i] = a.get(Resources.PODS);
    }
  }

  int size() {
    return size;
  }

  private boolean fits(int i, Resources total, boolean extras) {
    return cpu[i] >= total.cpuMillis() && memory[i] >= total.memoryBytes() && pods[i] >= total.get(Resources.PODS)
        && (!extras || total.fitsIn(options[i].allocatable()));
  }

  private static boolean keeps(InstanceOption o, Requirements requirements) {
    return requirements == null || (o.requirements().intersects(requirements) && o.offerable(requirements));
  }

  /** How many options fit {@code total} and (if not null) the new requirements; nothing changes. */
  int count(Resources total, Requirements changedRequirements) {
    boolean extras = total.amounts().size() > 3 || !total.amounts().keySet().stream().allMatch(ReferenceOptionSet::basic);
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (fits(i, total, extras) && keeps(options[i], changedRequirements)) {
        n++;
      }
    }
    return n;
  }

  /** Keeps only the options that fit {@code total} and (if not null) the new requirements, in order. */
  void retain(Resources total, Requirements changedRequirements) {
    boolean extras = total.amounts().size() > 3 || !total.amounts().keySet().stream().allMatch(ReferenceOptionSet::basic);
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (fits(i, total, extras) && keeps(options[i], changedRequirements)) {
        options[n] = options[i];
        cpu[n] = cpu[i];
        memory[n] = memory[i];
        pods[n] = pods[i];
        n++;
      }
    }
    for (int i = n; i < size; i++) {
      options[i] = null;
    }
    size = n;
  }

  /**
   * The zones and capacity types the options can still be bought in under the requirements, as
   * requirements: where a claim of these options can land.
   */
  Requirements offeredDomains(Requirements requirements) {
    Set<String> zones = new TreeSet<>();
    Set<String> types = new TreeSet<>();
    Requirement zone = requirements.get(WellKnownLabels.ZONE).orElse(null);
    Requirement type = requirements.get(WellKnownLabels.CAPACITY_TYPE).orElse(null);
    for (int i = 0; i < size; i++) {
      for (Offering o : options[i].offerings()) {
        if (o.available() && (zone == null || zone.allows(o.zone())) && (type == null || type.allows(o.capacityType().label()))) {
          zones.add(o.zone());
          types.add(o.capacityType().label());
        }
      }
    }
    return Requirements.of(Requirement.in(WellKnownLabels.ZONE, zones),
        Requirement.in(WellKnownLabels.CAPACITY_TYPE, types));
  }

  List<InstanceOption> list() {
    List<InstanceOption> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(options[i]);
    }
    return out;
  }

  private static boolean basic(String name) {
    return name.equals(Resources.CPU) || name.equals(Resources.MEMORY) || name.equals(Resources.PODS);
  }
}
