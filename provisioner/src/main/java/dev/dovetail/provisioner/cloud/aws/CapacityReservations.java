package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.aws.v1.CapacityReservationSelectorTerm;
import dev.dovetail.api.aws.v1.EC2NodeClass;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.api.scheduling.Offering;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.model.CapacityReservation;
import software.amazon.awssdk.services.ec2.model.DescribeCapacityReservationsRequest;
import software.amazon.awssdk.services.ec2.model.Filter;

/**
 * On-demand capacity reservations (ODCRs) a node class selects, as Karpenter's {@code reserved}
 * capacity type: resolved by {@code capacityReservationSelectorTerms} into the class's status, offered
 * to the scheduler as {@code reserved} offerings of their type and zone (priced at a ten-millionth of
 * on-demand: already paid for, yet still ordered by size), and launched into by naming the reservation
 * in the launch template. How many instances each still has room for is tracked between refreshes, so a
 * burst of launches does not overfill one; EC2's {@code ReservationCapacityExceeded} corrects the count.
 */
final class CapacityReservations {
  /** Karpenter's divisor for reserved offering prices. */
  static final double PRICE_DIVISOR = 10_000_000d;
  static final String EXCEEDED = "ReservationCapacityExceeded";

  private final Ec2AsyncClient ec2;
  /** Instances each reservation can still take, by reservation ID, as last described and counted since. */
  private final Map<String, AtomicInteger> available = new ConcurrentHashMap<>();

  CapacityReservations(Ec2AsyncClient ec2) {
    this.ec2 = ec2;
  }

  /** The active reservations the terms select (terms are ORed), by ID; none when there are no terms. */
  CompletableFuture<List<EC2NodeClassStatus.CapacityReservation>> resolve(List<CapacityReservationSelectorTerm> terms) {
    if (terms == null || terms.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<CompletableFuture<List<CapacityReservation>>> lookups = new ArrayList<>();
    for (CapacityReservationSelectorTerm term : terms) {
      lookups.add(collect(request(term)));
    }
    return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenApply(done -> {
      Map<String, EC2NodeClassStatus.CapacityReservation> byId = new TreeMap<>();
      for (CompletableFuture<List<CapacityReservation>> lookup : lookups) {
        for (CapacityReservation r : lookup.join()) {
          byId.put(r.capacityReservationId(), status(r));
          int free = r.availableInstanceCount() == null ? 0 : r.availableInstanceCount();
          available.computeIfAbsent(r.capacityReservationId(), id -> new AtomicInteger()).set(free);
        }
      }
      return List.copyOf(byId.values());
    });
  }

  private CompletableFuture<List<CapacityReservation>> collect(DescribeCapacityReservationsRequest request) {
    List<CapacityReservation> out = Collections.synchronizedList(new ArrayList<>());
    return ec2.describeCapacityReservationsPaginator(request).subscribe(page -> out.addAll(page.capacityReservations())).thenApply(x -> {
      synchronized (out) {
        return List.copyOf(out);
      }
    });
  }

  static DescribeCapacityReservationsRequest request(CapacityReservationSelectorTerm term) {
    DescribeCapacityReservationsRequest.Builder b = DescribeCapacityReservationsRequest.builder();
    List<Filter> filters = new ArrayList<>();
    filters.add(Selectors.filter("state", "active"));
    if (term.id() != null) {
      b.capacityReservationIds(term.id());
    }
    if (term.ownerID() != null) {
      filters.add(Selectors.filter("owner-id", term.ownerID()));
    }
    if (term.instanceMatchCriteria() != null) {
      filters.add(Selectors.filter("instance-match-criteria", term.instanceMatchCriteria() == CapacityReservationSelectorTerm.InstanceMatchCriteria.OPEN
          ? "open" : "targeted"));
    }
    if (term.tags() != null) {
      term.tags().forEach((k, v) -> filters.add("*".equals(v) ? Selectors.filter("tag-key", k) : Selectors.filter("tag:" + k, v)));
    }
    return b.filters(filters).build();
  }

  private static EC2NodeClassStatus.CapacityReservation status(CapacityReservation r) {
    var criteria = "targeted".equals(r.instanceMatchCriteriaAsString()) ? CapacityReservationSelectorTerm.InstanceMatchCriteria.TARGETED
        : CapacityReservationSelectorTerm.InstanceMatchCriteria.OPEN;
    var type = "capacity-block".equals(r.reservationTypeAsString()) ? EC2NodeClassStatus.CapacityReservation.ReservationType.CAPACITY_BLOCK
        : EC2NodeClassStatus.CapacityReservation.ReservationType.DEFAULT;
    return new EC2NodeClassStatus.CapacityReservation(r.availabilityZone(), r.endDate() == null ? null : r.endDate().toString(),
        r.capacityReservationId(), criteria, r.instanceType(), null, r.ownerId(), type, EC2NodeClassStatus.CapacityReservation.State.ACTIVE);
  }

  /** The class's reservations as {@code reserved} offerings by instance type (one per type and zone; available while one has room). */
  Map<String, List<Offering>> offerings(EC2NodeClass nodeClass, Catalog catalog) {
    List<EC2NodeClassStatus.CapacityReservation> reservations = reservationsOf(nodeClass);
    if (reservations.isEmpty()) {
      return Map.of();
    }
    Map<String, Map<String, Boolean>> roomByTypeAndZone = new TreeMap<>();
    for (EC2NodeClassStatus.CapacityReservation r : reservations) {
      roomByTypeAndZone.computeIfAbsent(r.instanceType(), t -> new TreeMap<>()).merge(r.availabilityZone(), room(r.id()) > 0, Boolean::logicalOr);
    }
    Map<String, List<Offering>> out = new TreeMap<>();
    roomByTypeAndZone.forEach((type, zones) -> {
      Optional<InstanceType> known = catalog.get(type);
      if (known.isEmpty()) {
        return;
      }
      double price = known.get().onDemandPricePerHour() / PRICE_DIVISOR;
      List<Offering> offerings = new ArrayList<>();
      zones.forEach((zone, room) -> offerings.add(new Offering(zone, CapacityType.RESERVED, price, room)));
      out.put(type, List.copyOf(offerings));
    });
    return out;
  }

  /** The reservation to launch a type into in a zone: of the class's, the one with the most room. */
  Optional<String> pick(EC2NodeClass nodeClass, String instanceType, String zone) {
    return reservationsOf(nodeClass).stream()
        .filter(r -> r.instanceType().equals(instanceType) && r.availabilityZone().equals(zone) && room(r.id()) > 0)
        .max(Comparator.comparingInt(r -> room(r.id())))
        .map(EC2NodeClassStatus.CapacityReservation::id);
  }

  /** An instance went into the reservation. */
  void launched(String id) {
    available.computeIfAbsent(id, k -> new AtomicInteger()).updateAndGet(n -> Math.max(0, n - 1));
  }

  /** EC2 says the reservation is full: no more launches into it until it is described again. */
  void exhausted(String id) {
    available.computeIfAbsent(id, k -> new AtomicInteger()).set(0);
  }

  int room(String id) {
    AtomicInteger n = available.get(id);
    return n == null ? 0 : n.get();
  }

  private static List<EC2NodeClassStatus.CapacityReservation> reservationsOf(EC2NodeClass nodeClass) {
    return nodeClass.getStatus() == null || nodeClass.getStatus().capacityReservations() == null ? List.of()
        : nodeClass.getStatus().capacityReservations();
  }
}
