package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.scheduling.Offering;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * What the account's commitments cover, as pure functions (F12): which Reserved Instances and Savings
 * Plans the account's running on-demand instances use, how much each has left, and so which on-demand
 * offerings are {@code committed} (launched before spot) and at what effective price.
 *
 * <p>Running instances are charged in the order AWS applies commitments: a zonal Reserved Instance of the
 * type in the instance's zone, then a regional one (size-flexible: the regional RIs of the type's family, in
 * normalized units, so an m5.xlarge RI covers two m5.large), then an EC2 Instance Savings Plan of the type's
 * family, then a Compute Savings Plan; a plan takes the instance's rate out of its hourly commitment (as much
 * as is left). What a commitment leaves uncovered of an instance goes to the next one (a later plan at its own
 * rate). An offering is covered by the first commitment in the same order that has room for all of it: a
 * Reserved Instance an instance (or the type's units) it has not counted yet, a plan at least the type's rate.
 */
final class CommitmentCoverage {
  /** Dollars per hour below which a plan's rates and commitment are taken as equal (sums of rates are not exact). */
  private static final double EPSILON = 1e-9;

  private CommitmentCoverage() {
  }

  /** The scope of a Savings Plan: a Compute plan covers any instance type it has a rate for; an EC2 Instance plan, its family. */
  enum PlanType { COMPUTE, EC2_INSTANCE }

  /**
   * A Savings Plan as coverage needs it.
   *
   * @param family     the instance family of an EC2 Instance plan ({@code m5}); null for a Compute plan
   * @param commitment what the plan pays each hour, in $/h
   * @param rates      the plan's rate by instance type in $/h, for Linux/UNIX on shared tenancy in the cluster's Region
   */
  record SavingsPlan(String id, PlanType type, String family, double commitment, Map<String, Double> rates) {
    SavingsPlan {
      rates = Map.copyOf(rates);
    }

    /** The plan's rate for an on-demand instance of this type, if the plan covers the type. */
    Optional<Double> rate(String instanceType) {
      if (type == PlanType.EC2_INSTANCE && (family == null || !family.equals(familyOf(instanceType)))) {
        return Optional.empty();
      }
      return Optional.ofNullable(rates.get(instanceType));
    }
  }

  /** The account's commitments as last read. */
  record Inventory(List<ReservedInstance> reservedInstances, List<SavingsPlan> savingsPlans) {
    static final Inventory EMPTY = new Inventory(List.of(), List.of());

    Inventory {
      reservedInstances = List.copyOf(reservedInstances);
      savingsPlans = List.copyOf(savingsPlans);
    }

    boolean isEmpty() {
      return reservedInstances.isEmpty() && savingsPlans.isEmpty();
    }
  }

  /** A running (or launching) on-demand instance of this cluster. */
  record Running(String instanceType, String zone) {
  }

  /**
   * How much of each commitment is in use: of each Reserved Instance (by its index in the inventory), in
   * instances of its type (a fraction when size-flexible: a running m5.large uses half of an m5.xlarge RI), and
   * $/h of each Savings Plan (by index).
   */
  record Usage(List<Double> reservedInstances, List<Double> savingsPlans) {
    Usage {
      reservedInstances = List.copyOf(reservedInstances);
      savingsPlans = List.copyOf(savingsPlans);
    }
  }

  /** The commitment an offering launches under: a Reserved Instance or a Savings Plan (its index) and the effective price. */
  record Cover(boolean reservedInstance, int index, double pricePerHour) {
  }

  /** The family of an instance type ({@code m5} of {@code m5.xlarge}). */
  static String familyOf(String instanceType) {
    int dot = instanceType.indexOf('.');
    return dot < 0 ? instanceType : instanceType.substring(0, dot);
  }

  /**
   * The normalization factor of each instance size: a regional Linux/UNIX Reserved Instance on default
   * tenancy applies across the sizes of its family in these units. Metal sizes are left out (their factor is
   * that of the family's largest size, which the type name does not say): an RI or instance of a metal size
   * counts as its own type only.
   */
  private static final Map<String, Double> SIZE_UNITS = Map.ofEntries(Map.entry("nano", 0.25), Map.entry("micro", 0.5), Map.entry("small", 1.0),
      Map.entry("medium", 2.0), Map.entry("large", 4.0), Map.entry("xlarge", 8.0), Map.entry("2xlarge", 16.0), Map.entry("3xlarge", 24.0),
      Map.entry("4xlarge", 32.0), Map.entry("6xlarge", 48.0), Map.entry("8xlarge", 64.0), Map.entry("9xlarge", 72.0), Map.entry("10xlarge", 80.0),
      Map.entry("12xlarge", 96.0), Map.entry("16xlarge", 128.0), Map.entry("18xlarge", 144.0), Map.entry("24xlarge", 192.0),
      Map.entry("32xlarge", 256.0), Map.entry("48xlarge", 384.0), Map.entry("56xlarge", 448.0), Map.entry("112xlarge", 896.0));

  /** The normalization factor of an instance type's size ({@code m5.xlarge}: 8), when it has one. */
  static OptionalDouble units(String instanceType) {
    int dot = instanceType.indexOf('.');
    Double units = dot < 0 ? null : SIZE_UNITS.get(instanceType.substring(dot + 1));
    return units == null ? OptionalDouble.empty() : OptionalDouble.of(units);
  }

  /** Whether a Reserved Instance is size-flexible: regional, of a size with a normalization factor (the provider keeps Linux/UNIX default-tenancy RIs only). */
  private static boolean flexible(ReservedInstance ri) {
    return ri.availabilityZone() == null && units(ri.instanceType()).isPresent();
  }

  /** What a Reserved Instance holds, in its units: normalized units for a size-flexible one, else instances. */
  private static double capacity(ReservedInstance ri) {
    return flexible(ri) ? ri.count() * units(ri.instanceType()).getAsDouble() : ri.count();
  }

  /**
   * How much of a Reserved Instance's units a whole instance of this type in this zone takes: its normalized
   * units for a size-flexible RI of its family, one for an RI of its exact type (in its zone), zero when the RI
   * does not apply to it.
   */
  private static double need(ReservedInstance ri, String instanceType, String zone) {
    if (flexible(ri)) {
      OptionalDouble units = units(instanceType);
      return units.isPresent() && familyOf(ri.instanceType()).equals(familyOf(instanceType)) ? units.getAsDouble() : 0;
    }
    return ri.covers(instanceType, zone) ? 1 : 0;
  }

  /** Reserved Instances in the order they are applied: zonal ones first, then regional (each in inventory order). */
  private static List<Integer> riOrder(Inventory inventory) {
    List<ReservedInstance> ris = inventory.reservedInstances();
    return IntStream.range(0, ris.size()).boxed().sorted(Comparator.comparingInt(i -> ris.get(i).availabilityZone() == null ? 1 : 0)).toList();
  }

  /** Savings Plans in the order they are applied: EC2 Instance plans first, then Compute plans. */
  private static List<Integer> planOrder(Inventory inventory) {
    List<SavingsPlan> plans = inventory.savingsPlans();
    return IntStream.range(0, plans.size()).boxed().sorted(Comparator.comparingInt(i -> plans.get(i).type() == PlanType.EC2_INSTANCE ? 0 : 1)).toList();
  }

  /**
   * Charges each running on-demand instance to the commitments that cover it, in order, until all of it is
   * covered: a Reserved Instance takes as many of the instance's units as it has left (a size-flexible one may
   * cover part of a larger instance), a plan as much of its rate as its commitment has left; what one leaves
   * uncovered goes to the next (a later plan at its own rate).
   */
  static Usage usage(Inventory inventory, List<Running> running) {
    List<ReservedInstance> ris = inventory.reservedInstances();
    List<SavingsPlan> plans = inventory.savingsPlans();
    double[] used = new double[ris.size()];
    double[] spent = new double[plans.size()];
    List<Integer> riOrder = riOrder(inventory);
    List<Integer> planOrder = planOrder(inventory);
    next:
    for (Running r : running) {
      double uncovered = 1;
      for (int i : riOrder) {
        double need = need(ris.get(i), r.instanceType(), r.zone());
        double take = Math.min(uncovered * need, capacity(ris.get(i)) - used[i]);
        if (need > 0 && take > EPSILON) {
          used[i] += take;
          uncovered -= take / need;
          if (uncovered <= EPSILON) {
            continue next;
          }
        }
      }
      for (int p : planOrder) {
        SavingsPlan plan = plans.get(p);
        Optional<Double> rate = plan.rate(r.instanceType());
        if (rate.isEmpty() || !(rate.get() > 0)) {
          continue;
        }
        double take = Math.min(uncovered * rate.get(), plan.commitment() - spent[p]);
        if (take > EPSILON) {
          spent[p] += take;
          uncovered -= take / rate.get();
          if (uncovered <= EPSILON) {
            continue next;
          }
        }
      }
    }
    List<Double> instances = new ArrayList<>();
    for (int i = 0; i < ris.size(); i++) {
      instances.add(flexible(ris.get(i)) ? used[i] / units(ris.get(i).instanceType()).getAsDouble() : used[i]);
    }
    return new Usage(instances, Arrays.stream(spent).boxed().toList());
  }

  /**
   * The commitment an on-demand instance of this type in this zone would launch under now, if one has room
   * for all of it (no partial coverage is offered): a Reserved Instance of its type (in its zone) with an
   * instance left, or the size-flexible regional ones of its family with at least its units left between them,
   * priced at a ten-millionth of on-demand (paid for already, as Karpenter prices reserved capacity); else a
   * Savings Plan with at least its rate left, at that rate.
   */
  static Optional<Cover> cover(Inventory inventory, Usage usage, String instanceType, String zone, double onDemandPrice) {
    List<ReservedInstance> ris = inventory.reservedInstances();
    double flexibleLeft = 0;
    int firstFlexible = -1;
    for (int i : riOrder(inventory)) {
      ReservedInstance ri = ris.get(i);
      double need = need(ri, instanceType, zone);
      if (need <= 0) {
        continue;
      }
      double left = capacity(ri) - used(ri, usage.reservedInstances().get(i));
      if (!flexible(ri) && left >= 1 - EPSILON) {
        return Optional.of(new Cover(true, i, onDemandPrice / CapacityReservations.PRICE_DIVISOR));
      }
      if (flexible(ri) && left > EPSILON) {
        flexibleLeft += left;
        firstFlexible = firstFlexible < 0 ? i : firstFlexible;
      }
    }
    OptionalDouble units = units(instanceType);
    if (firstFlexible >= 0 && units.isPresent() && flexibleLeft >= units.getAsDouble() - EPSILON) {
      return Optional.of(new Cover(true, firstFlexible, onDemandPrice / CapacityReservations.PRICE_DIVISOR));
    }
    for (int p : planOrder(inventory)) {
      SavingsPlan plan = inventory.savingsPlans().get(p);
      Optional<Double> rate = plan.rate(instanceType);
      if (rate.isPresent() && plan.commitment() - usage.savingsPlans().get(p) >= rate.get() - EPSILON) {
        return Optional.of(new Cover(false, p, rate.get()));
      }
    }
    return Optional.empty();
  }

  /** A Reserved Instance's use in its units (normalized units for a size-flexible one), from its use in instances of its type. */
  private static double used(ReservedInstance ri, double instances) {
    return flexible(ri) ? instances * units(ri.instanceType()).getAsDouble() : instances;
  }

  /**
   * The committed on-demand offerings by instance type: for each catalog type a commitment could cover,
   * one in each zone of the type where a commitment has room now, at its effective price.
   */
  static Map<String, List<Offering>> offerings(Inventory inventory, List<Running> running, Catalog catalog) {
    if (inventory.isEmpty()) {
      return Map.of();
    }
    Usage usage = usage(inventory, running);
    TreeSet<String> types = new TreeSet<>();
    inventory.reservedInstances().forEach(ri -> types.add(ri.instanceType()));
    // A size-flexible Reserved Instance covers every size of its family that has a normalization factor.
    Set<String> flexibleFamilies = inventory.reservedInstances().stream().filter(CommitmentCoverage::flexible).map(ri -> familyOf(ri.instanceType()))
        .collect(Collectors.toSet());
    if (!flexibleFamilies.isEmpty()) {
      catalog.all().stream().map(InstanceType::name).filter(n -> flexibleFamilies.contains(familyOf(n)) && units(n).isPresent()).forEach(types::add);
    }
    inventory.savingsPlans().forEach(p -> types.addAll(p.rates().keySet()));
    Map<String, List<Offering>> out = new TreeMap<>();
    for (String name : types) {
      Optional<InstanceType> known = catalog.get(name);
      if (known.isEmpty() || !known.get().capacityTypes().contains(CapacityType.ON_DEMAND)) {
        continue;
      }
      InstanceType t = known.get();
      List<Offering> offerings = new ArrayList<>();
      for (String zone : t.zones()) {
        cover(inventory, usage, name, zone, t.pricePerHour(CapacityType.ON_DEMAND, zone))
            .ifPresent(c -> offerings.add(new Offering(zone, CapacityType.ON_DEMAND, c.pricePerHour(), true, true)));
      }
      if (!offerings.isEmpty()) {
        out.put(name, List.copyOf(offerings));
      }
    }
    return out;
  }
}
