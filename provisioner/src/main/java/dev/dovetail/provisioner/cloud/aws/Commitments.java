package dev.dovetail.provisioner.cloud.aws;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.config.v1alpha1.ReservedInstance;
import dev.dovetail.api.scheduling.Offering;
import dev.dovetail.provisioner.cloud.CloudProvider;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Cover;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Inventory;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.PlanType;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Running;
import dev.dovetail.provisioner.cloud.aws.CommitmentCoverage.Usage;
import dev.dovetail.runtime.Failures;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.ReservedInstances;
import software.amazon.awssdk.services.savingsplans.SavingsplansAsyncClient;
import software.amazon.awssdk.services.savingsplans.model.DescribeSavingsPlanRatesRequest;
import software.amazon.awssdk.services.savingsplans.model.DescribeSavingsPlansRequest;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlan;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRate;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRateFilter;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRateFilterName;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanRateProperty;
import software.amazon.awssdk.services.savingsplans.model.SavingsPlanState;

/**
 * The account's Reserved Instances and Savings Plans, read from EC2 ({@code DescribeReservedInstances})
 * and Savings Plans ({@code DescribeSavingsPlans}, {@code DescribeSavingsPlanRates}) while the
 * ClusterOrchestratorConfig's commitment integration is on, and offered to the scheduler as committed
 * on-demand offerings ({@link CommitmentCoverage}) while they have room.
 *
 * <p>Read at start and on a period, without blocking (the SDK's futures are composed); a read that fails
 * is logged and the last good inventory kept until the next period. What is in use comes from every
 * on-demand instance of the account in the Region (commitments are account-wide: another cluster's instances,
 * instances started by hand and instances in capacity reservations use them too), listed on a shorter period,
 * one listing at a time, plus what was launched since: a launch on committed capacity {@linkplain #take takes}
 * its room under a lock before it calls EC2 and counts its instance at once, so a burst of parallel launches
 * never takes more than a commitment has. Nothing is offered, and no room taken, until the inventory was read
 * and the instances listed once since start (or since the integration was turned on again): until then every
 * instance of the account might be using every commitment.
 *
 * <p>Not counted, so what they use looks free: instances in other Regions (Compute plans and, for a plan's
 * family, EC2 Instance plans apply to them too), Fargate and Lambda usage (Compute plans), instances of other
 * accounts of an AWS Organization that share the commitments, and instances the provider does not cover
 * (Windows and other operating systems, dedicated tenancy), which use Savings Plans at rates it does not read.
 */
final class Commitments {
  private static final Logger LOG = LoggerFactory.getLogger(Commitments.class);
  static final Duration INVENTORY_PERIOD = Duration.ofMinutes(5);
  static final Duration USAGE_PERIOD = Duration.ofMinutes(1);
  /** How long an instance launched here counts before a listing must show it (DescribeInstances is eventually consistent). */
  static final Duration LISTING_LAG = Duration.ofMinutes(2);
  /** Reserved Instances for these product descriptions cover the Linux instances the provider launches. */
  private static final List<String> LINUX = List.of("Linux/UNIX", "Linux/UNIX (Amazon VPC)");

  /** Room taken for a launch on committed capacity: counted until the launch is settled. */
  record Grant(long id, Running pool) {
  }

  /** A Savings Plan and how much of its commitment the account's instances use now ($/h). */
  record PlanUse(CommitmentCoverage.SavingsPlan plan, double inUse) {
  }

  private record Launched(Running pool, Instant at) {
  }

  private record Cached(Catalog catalog, long version, Map<String, List<Offering>> offerings) {
  }

  private final Ec2AsyncClient ec2;
  /** Null in a partition without a Savings Plans endpoint (GovCloud): Reserved Instances only. */
  private final SavingsplansAsyncClient savingsPlans;
  private final String region;
  private final Supplier<CompletionStage<Map<String, Running>>> instances;
  private final Clock clock;
  private volatile BooleanSupplier enabled = () -> false;
  /** Whether the integration was on when last looked at: turned on again, it starts afresh. */
  private final AtomicBoolean wasOn = new AtomicBoolean();
  /** Whether a read was started since start or since the integration was turned on (the first ask starts one; after that the timer reads). */
  private final AtomicBoolean attempted = new AtomicBoolean();
  private final AtomicBoolean noPlansLogged = new AtomicBoolean();
  /** A plan's rates by plan ID: they never change for a plan, so each is read once. */
  private final Map<String, Map<String, Double>> ratesByPlan = new ConcurrentHashMap<>();
  private final List<ScheduledFuture<?>> schedules = new ArrayList<>();

  /** Held while the inventory, the instances in use and the room taken are read or changed. */
  private final Object lock = new Object();
  private Inventory inventory = Inventory.EMPTY;
  /** The inventory was read since start (or since the integration was turned on again). */
  private boolean loaded;
  /** The instances in use were listed since start (or since the integration was turned on again). */
  private boolean listedOnce;
  /** Bumped when the integration is turned on again: reads and listings started before are dropped. */
  private long epoch;
  /** The read under way, if any: a second ask joins it. */
  private CompletableFuture<Void> refreshing;
  /** The listing under way, and the one asked for meanwhile (it starts when that one is done): one at a time. */
  private CompletableFuture<Void> listingNow;
  private CompletableFuture<Void> listingNext;
  /** Listings started, and the last one applied (an older one is never applied after a newer one). */
  private long listingsStarted;
  private long listingApplied;
  /** The account's on-demand instances as last listed, by instance ID. */
  private Map<String, Running> listed = Map.of();
  /** On-demand instances launched on committed capacity (by instance ID), counted until {@link #LISTING_LAG} has passed. */
  private final Map<String, Launched> launched = new HashMap<>();
  /** Room taken by launches under way, by grant. */
  private final Map<Long, Running> pending = new LinkedHashMap<>();
  private long grants;
  private long version;
  private Cached cached;

  /**
   * @param savingsPlans empty in a partition without a Savings Plans endpoint
   * @param region       the cluster's Region: Savings Plan rates are read for it
   * @param instances    the account's on-demand instances in the Region a commitment can cover, by instance ID
   *                     ({@link #onDemandInstances})
   */
  Commitments(Ec2AsyncClient ec2, Optional<SavingsplansAsyncClient> savingsPlans, String region,
      Supplier<CompletionStage<Map<String, Running>>> instances, Clock clock) {
    this.ec2 = ec2;
    this.savingsPlans = savingsPlans.orElse(null);
    this.region = region;
    this.instances = instances;
    this.clock = clock;
  }

  /** Whether the commitment integration is on (the ClusterOrchestratorConfig's; off until set). */
  void enabled(BooleanSupplier on) {
    this.enabled = on;
    wasOn.set(on.getAsBoolean());
  }

  /** Whether the integration is on; when it was off when last looked at, it starts afresh ({@link #restart}). */
  boolean enabled() {
    boolean on = enabled.getAsBoolean();
    if (!wasOn.getAndSet(on) && on) {
      restart();
    }
    return on;
  }

  /**
   * The integration was turned on again: what was read and listed before may be stale (commitments bought or
   * expired, instances started meanwhile), so nothing is offered until the account is read and listed again, now.
   */
  private void restart() {
    synchronized (lock) {
      epoch++;
      inventory = Inventory.EMPTY;
      loaded = false;
      listedOnce = false;
      listed = Map.of();
      cached = null;
      version++;
    }
    attempted.set(false);
    LOG.atInfo().log("commitment integration turned on: reading the account's commitments and instances afresh");
    refresh();
  }

  /** Reads the inventory now and every {@link #INVENTORY_PERIOD}, the instances in use every {@link #USAGE_PERIOD}. */
  void start(ScheduledExecutorService timer) {
    synchronized (schedules) {
      schedules.add(timer.scheduleWithFixedDelay(this::refresh, 0, INVENTORY_PERIOD.toSeconds(), TimeUnit.SECONDS));
      schedules.add(timer.scheduleWithFixedDelay(() -> {
        if (enabled()) {
          refreshUsage();
        }
      }, USAGE_PERIOD.toSeconds(), USAGE_PERIOD.toSeconds(), TimeUnit.SECONDS));
    }
  }

  void stop() {
    synchronized (schedules) {
      schedules.forEach(s -> s.cancel(false));
      schedules.clear();
    }
  }

  /**
   * Reads the Reserved Instances, the Savings Plans with their rates and the instances in use, when the
   * integration is on; while a read is under way, a second ask gets that one. Completes normally whatever
   * happens: a part that fails keeps what it last read.
   */
  CompletableFuture<Void> refresh() {
    if (!enabled()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done;
    long at;
    synchronized (lock) {
      if (refreshing != null) {
        return refreshing;
      }
      refreshing = done = new CompletableFuture<>();
      at = epoch;
    }
    attempted.set(true);
    CompletableFuture<Void> work;
    try {
      CompletableFuture<Optional<List<ReservedInstance>>> ris = readReservedInstances().handle((read, error) -> {
        if (error != null) {
          LOG.atWarn().addKeyValue("error", Failures.cause(error).toString())
              .log("reading the account's Reserved Instances failed: keeping the last inventory, trying again in {}", INVENTORY_PERIOD);
          return Optional.empty();
        }
        return Optional.of(read);
      });
      CompletableFuture<Optional<List<CommitmentCoverage.SavingsPlan>>> plans = readSavingsPlans().handle((read, error) -> {
        if (error != null) {
          LOG.atWarn().addKeyValue("error", Failures.cause(error).toString())
              .log("reading the account's Savings Plans failed: keeping the last inventory, trying again in {}", INVENTORY_PERIOD);
          return Optional.empty();
        }
        return Optional.of(read);
      });
      CompletableFuture<Void> usage = refreshUsage();
      work = CompletableFuture.allOf(ris, plans, usage).thenRun(() -> apply(at, ris.join(), plans.join()));
    } catch (RuntimeException e) {
      work = CompletableFuture.failedFuture(e);
    }
    work.whenComplete((ok, error) -> {
      if (error != null) {
        LOG.atWarn().addKeyValue("error", Failures.cause(error).toString()).log("reading the account's commitments failed");
      }
      boolean stale;
      synchronized (lock) {
        refreshing = null;
        stale = at != epoch;
      }
      // Turned on again while this read was under way: what it read was dropped, so read again.
      if (stale && enabled()) {
        refresh().whenComplete((again, e) -> done.complete(null));
      } else {
        done.complete(null);
      }
    });
    return done;
  }

  /** What a read found, unless the integration was turned on again since it started. */
  private void apply(long at, Optional<List<ReservedInstance>> readRis, Optional<List<CommitmentCoverage.SavingsPlan>> readPlans) {
    Inventory now;
    boolean changed;
    synchronized (lock) {
      if (at != epoch) {
        return;
      }
      Inventory before = inventory;
      now = new Inventory(readRis.orElse(before.reservedInstances()), readPlans.orElse(before.savingsPlans()));
      changed = !now.equals(before);
      inventory = now;
      loaded |= readRis.isPresent() || readPlans.isPresent();
      version++;
    }
    if (changed) {
      LOG.atInfo().addKeyValue("reservedInstances", now.reservedInstances().size()).addKeyValue("savingsPlans", now.savingsPlans().size())
          .log("the account's commitments: {} Reserved Instance(s), {} Savings Plan(s)", now.reservedInstances().size(),
              now.savingsPlans().size());
    }
  }

  /** For tests: the inventory as if just read. */
  void load(Inventory read) {
    attempted.set(true);
    synchronized (lock) {
      inventory = read;
      loaded = true;
      version++;
    }
  }

  /**
   * Lists the instances in use again, one listing at a time: asked while one is under way, the next starts when
   * it is done (the answer covers what was launched meanwhile). Instances launched here count for
   * {@link #LISTING_LAG} after their launch whatever a listing says. Completes normally whatever happens: a
   * listing that fails keeps the last one.
   */
  CompletableFuture<Void> refreshUsage() {
    CompletableFuture<Void> now;
    synchronized (lock) {
      if (listingNow != null) {
        if (listingNext == null) {
          listingNext = new CompletableFuture<>();
        }
        return listingNext;
      }
      listingNow = now = new CompletableFuture<>();
    }
    list(now);
    return now;
  }

  private void list(CompletableFuture<Void> done) {
    Instant started = clock.instant();
    long at;
    long seq;
    synchronized (lock) {
      at = epoch;
      seq = ++listingsStarted;
    }
    CompletableFuture<Map<String, Running>> listing;
    try {
      listing = instances.get().toCompletableFuture();
    } catch (RuntimeException e) {
      listing = CompletableFuture.failedFuture(e);
    }
    listing.whenComplete((found, error) -> {
      CompletableFuture<Void> next;
      synchronized (lock) {
        if (error == null && at == epoch && seq > listingApplied) {
          listingApplied = seq;
          listed = Map.copyOf(found);
          listedOnce = true;
          // By age only: a listing may not show an instance yet (eventual consistency) though an older one did.
          Instant stale = started.minus(LISTING_LAG);
          launched.values().removeIf(l -> l.at().isBefore(stale));
          version++;
        }
        next = listingNext;
        listingNext = null;
        listingNow = next;
      }
      if (error != null) {
        LOG.atWarn().addKeyValue("error", Failures.cause(error).toString())
            .log("listing the account's on-demand instances for commitments failed: keeping the last listing, trying again in {}", USAGE_PERIOD);
      }
      done.complete(null);
      if (next != null) {
        list(next);
      }
    });
  }

  /**
   * The account's on-demand instances in the Region that a commitment can cover, by instance ID: every pending
   * or running instance (whoever started it, in a capacity reservation or not) that is not spot or a Capacity
   * Block, on default tenancy, Linux/UNIX. Not only this cluster's: commitments are account-wide.
   */
  static Supplier<CompletionStage<Map<String, Running>>> onDemandInstances(Ec2AsyncClient ec2) {
    return () -> onDemandPages(ec2, null, new HashMap<>(), new HashSet<>());
  }

  private static CompletableFuture<Map<String, Running>> onDemandPages(Ec2AsyncClient ec2, String token, Map<String, Running> into, Set<String> seen) {
    DescribeInstancesRequest request = DescribeInstancesRequest.builder().filters(Selectors.filter("instance-state-name", "pending", "running"))
        .maxResults(1000).nextToken(token).build();
    return ec2.describeInstances(request).thenCompose(page -> {
      page.reservations().forEach(r -> r.instances().forEach(i -> onDemand(i).ifPresent(running -> into.put(i.instanceId(), running))));
      return nextPage(page.nextToken(), seen, "DescribeInstances", () -> Map.copyOf(into), next -> onDemandPages(ec2, next, into, seen));
    });
  }

  /** An instance as commitments count it, if it is an on-demand Linux/UNIX instance on default tenancy that is pending or running. */
  static Optional<Running> onDemand(Instance i) {
    String lifecycle = i.instanceLifecycleAsString();
    String state = i.state() == null ? null : i.state().nameAsString();
    String tenancy = i.placement() == null ? null : i.placement().tenancyAsString();
    if (lifecycle != null && !lifecycle.isEmpty() && !"on-demand".equals(lifecycle) || !"pending".equals(state) && !"running".equals(state)
        || tenancy != null && !"default".equals(tenancy) || "windows".equalsIgnoreCase(i.platformAsString())
        || i.platformDetails() != null && !i.platformDetails().startsWith("Linux/UNIX") || i.instanceTypeAsString() == null
        || i.placement() == null) {
      return Optional.empty();
    }
    return Optional.of(new Running(i.instanceTypeAsString(), i.placement().availabilityZone()));
  }

  /**
   * The next page of a paged read, or what was read when there is none; a token the service already gave
   * fails the read (a service that repeats itself would page forever).
   */
  private static <T> CompletableFuture<T> nextPage(String token, Set<String> seen, String action, Supplier<T> done,
      Function<String, CompletableFuture<T>> next) {
    if (token == null || token.isEmpty()) {
      return CompletableFuture.completedFuture(done.get());
    }
    if (!seen.add(token)) {
      return CompletableFuture.failedFuture(new IllegalStateException(action + " answered a nextToken it had given before: stopping"));
    }
    return next.apply(token);
  }

  private CompletableFuture<List<ReservedInstance>> readReservedInstances() {
    return ec2.describeReservedInstances(r -> r.filters(Selectors.filter("state", "active"))).thenApply(response -> {
      List<ReservedInstance> out = new ArrayList<>();
      for (ReservedInstances ri : response.reservedInstances()) {
        reservedInstance(ri).ifPresent(out::add);
      }
      return List.copyOf(out);
    });
  }

  /**
   * An active Linux/UNIX Reserved Instance on default tenancy as the provider counts it: zonal when its
   * scope is an Availability Zone, regional otherwise.
   */
  static Optional<ReservedInstance> reservedInstance(ReservedInstances ri) {
    if (!"active".equals(ri.stateAsString()) || ri.instanceCount() == null || ri.instanceCount() < 1 || ri.instanceTypeAsString() == null
        || !LINUX.contains(ri.productDescriptionAsString())
        || ri.instanceTenancyAsString() != null && !"default".equals(ri.instanceTenancyAsString())) {
      return Optional.empty();
    }
    boolean zonal = "Availability Zone".equals(ri.scopeAsString()) && ri.availabilityZone() != null;
    return Optional.of(new ReservedInstance(ri.instanceTypeAsString(), zonal ? ri.availabilityZone() : null, ri.instanceCount()));
  }

  private CompletableFuture<List<CommitmentCoverage.SavingsPlan>> readSavingsPlans() {
    if (savingsPlans == null) {
      if (noPlansLogged.compareAndSet(false, true)) {
        LOG.atInfo().addKeyValue("region", region)
            .log("the partition of {} has no Savings Plans endpoint: reading the account's Reserved Instances only", region);
      }
      return CompletableFuture.completedFuture(List.of());
    }
    return plansFrom(null, new ArrayList<>(), new HashSet<>()).thenCompose(plans -> {
      ratesByPlan.keySet().retainAll(plans.stream().map(SavingsPlan::savingsPlanId).collect(Collectors.toSet()));
      List<CompletableFuture<Optional<CommitmentCoverage.SavingsPlan>>> withRates = new ArrayList<>();
      for (var plan : plans) {
        Optional<PlanType> type = planType(plan.savingsPlanTypeAsString());
        if (type.isEmpty() || type.get() == PlanType.EC2_INSTANCE && !region.equals(plan.region())) {
          continue;  // SageMaker and Database plans, and EC2 Instance plans of other Regions, cover nothing the provider launches
        }
        double commitment = parse(plan.commitment());
        withRates.add(rates(plan.savingsPlanId()).thenApply(rates -> rates.isEmpty() || !(commitment > 0)
            ? Optional.<CommitmentCoverage.SavingsPlan>empty()
            : Optional.of(new CommitmentCoverage.SavingsPlan(plan.savingsPlanId(), type.get(), type.get() == PlanType.EC2_INSTANCE ? plan.ec2InstanceFamily() : null,
                commitment, rates))));
      }
      return CompletableFuture.allOf(withRates.toArray(CompletableFuture[]::new))
          .thenApply(done -> withRates.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    });
  }

  private CompletableFuture<List<SavingsPlan>> plansFrom(String token, List<SavingsPlan> into, Set<String> seen) {
    return savingsPlans.describeSavingsPlans(DescribeSavingsPlansRequest.builder().states(SavingsPlanState.ACTIVE).nextToken(token).build())
        .thenCompose(page -> {
          page.savingsPlans().stream().filter(p -> p.state() == SavingsPlanState.ACTIVE).forEach(into::add);
          return nextPage(page.nextToken(), seen, "DescribeSavingsPlans", () -> into, next -> plansFrom(next, into, seen));
        });
  }

  /** A plan's rates, read once: a plan's rates never change. */
  private CompletableFuture<Map<String, Double>> rates(String planId) {
    Map<String, Double> known = ratesByPlan.get(planId);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    return ratesFrom(planId, null, new HashMap<>(), new HashSet<>()).thenApply(read -> {
      ratesByPlan.put(planId, read);
      return read;
    });
  }

  /** A plan's rates for Linux/UNIX on shared tenancy in the Region, by instance type. */
  private CompletableFuture<Map<String, Double>> ratesFrom(String planId, String token, Map<String, Double> into,
      Set<String> seen) {
    DescribeSavingsPlanRatesRequest request = DescribeSavingsPlanRatesRequest.builder().savingsPlanId(planId).nextToken(token).filters(
        rateFilter(SavingsPlanRateFilterName.PRODUCT_TYPE, "EC2"), rateFilter(SavingsPlanRateFilterName.REGION, region),
        rateFilter(SavingsPlanRateFilterName.PRODUCT_DESCRIPTION, "Linux/UNIX"), rateFilter(SavingsPlanRateFilterName.TENANCY, "shared")).build();
    return savingsPlans.describeSavingsPlanRates(request).thenCompose(page -> {
      for (SavingsPlanRate rate : page.searchResults()) {
        instanceTypeOf(rate, region).ifPresent(type -> {
          double r = parse(rate.rate());
          if (r > 0) {
            into.put(type, r);
          }
        });
      }
      return nextPage(page.nextToken(), seen, "DescribeSavingsPlanRates", () -> Map.copyOf(into),
          next -> ratesFrom(planId, next, into, seen));
    });
  }

  private static SavingsPlanRateFilter rateFilter(SavingsPlanRateFilterName name, String value) {
    return SavingsPlanRateFilter.builder().name(name).values(value).build();
  }

  /**
   * The instance type an EC2 rate is for, when it is a shared-tenancy Linux/UNIX box rate in the Region: its
   * {@code instanceType} property, else the end of its usage type ({@code USE1-BoxUsage:m5.xlarge}).
   */
  static Optional<String> instanceTypeOf(SavingsPlanRate rate, String region) {
    Map<String, String> props = new HashMap<>();
    for (SavingsPlanRateProperty p : rate.properties()) {
      props.put(p.nameAsString(), p.value());
    }
    String usage = rate.usageType() == null ? "" : rate.usageType();
    if (!usage.contains("BoxUsage:") || rate.productType() != null && !"EC2".equals(rate.productTypeAsString())
        || props.containsKey("region") && !region.equals(props.get("region"))
        || props.containsKey("productDescription") && !"Linux/UNIX".equals(props.get("productDescription"))
        || props.containsKey("tenancy") && !"shared".equals(props.get("tenancy"))) {
      return Optional.empty();
    }
    String type = props.getOrDefault("instanceType", usage.substring(usage.indexOf("BoxUsage:") + "BoxUsage:".length()));
    return type.isEmpty() ? Optional.empty() : Optional.of(type);
  }

  private static Optional<PlanType> planType(String type) {
    return switch (type == null ? "" : type) {
      case "Compute" -> Optional.of(PlanType.COMPUTE);
      case "EC2Instance" -> Optional.of(PlanType.EC2_INSTANCE);
      default -> Optional.empty();
    };
  }

  private static double parse(String amount) {
    try {
      return amount == null ? 0 : Double.parseDouble(amount);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Every on-demand instance that counts against commitments now: listed, launched lately, and launches under way. Under the lock. */
  private List<Running> inUse() {
    List<Running> out = new ArrayList<>(listed.values());
    launched.forEach((id, l) -> {
      if (!listed.containsKey(id)) {
        out.add(l.pool());
      }
    });
    out.addAll(pending.values());
    return out;
  }

  /**
   * The committed on-demand offerings by instance type (none while the integration is off, or until the
   * inventory was read and the instances in use listed). The first ask with the integration on starts the
   * first read when the timer has not done it yet.
   */
  Map<String, List<Offering>> offerings(Catalog catalog) {
    if (!enabled()) {
      return Map.of();
    }
    synchronized (lock) {
      Cached c = cached;
      if (loaded && listedOnce) {
        if (c != null && c.catalog() == catalog && c.version() == version) {
          return c.offerings();
        }
        Map<String, List<Offering>> fresh = CommitmentCoverage.offerings(inventory, inUse(), catalog);
        cached = new Cached(catalog, version, fresh);
        return fresh;
      }
    }
    if (!attempted.get()) {
      refresh();
    }
    return Map.of();
  }

  /**
   * Takes room for one on-demand instance of this type in this zone, if a commitment has room for it now
   * (counting launches under way): the launch then counts against it until it is {@linkplain #settle settled}.
   * None before the inventory was read and the instances in use listed.
   */
  Optional<Grant> take(String instanceType, String zone, double onDemandPrice) {
    if (!enabled()) {
      return Optional.empty();
    }
    synchronized (lock) {
      if (!loaded || !listedOnce) {
        return Optional.empty();
      }
      Usage usage = CommitmentCoverage.usage(inventory, inUse());
      Optional<Cover> cover = CommitmentCoverage.cover(inventory, usage, instanceType, zone, onDemandPrice);
      if (cover.isEmpty()) {
        return Optional.empty();
      }
      Grant grant = new Grant(++grants, new Running(instanceType, zone));
      pending.put(grant.id(), grant.pool());
      version++;
      return Optional.of(grant);
    }
  }

  /** The launch is over: its instance (if it launched one) counts from now on; else the room goes back. */
  void settle(Grant grant, Optional<String> instanceId) {
    synchronized (lock) {
      pending.remove(grant.id());
      instanceId.ifPresent(id -> launched.put(id, new Launched(grant.pool(), clock.instant())));
      version++;
    }
  }

  /** The account's Reserved Instances as last read (none while the integration is off). */
  List<ReservedInstance> reservedInstances() {
    if (!enabled()) {
      return List.of();
    }
    synchronized (lock) {
      return loaded ? inventory.reservedInstances() : List.of();
    }
  }

  /**
   * The account's Reserved Instances as last read, purchases of one type and zone together, with their use as the
   * coverage charges it (a regional RI's use in instances of its type: half when an m5.large runs on an m5.xlarge
   * RI); none while the integration is off.
   */
  List<CloudProvider.ReservedInstanceUse> reservedInstanceUse() {
    if (!enabled()) {
      return List.of();
    }
    synchronized (lock) {
      if (!loaded) {
        return List.of();
      }
      Usage usage = CommitmentCoverage.usage(inventory, inUse());
      Map<List<String>, CloudProvider.ReservedInstanceUse> byKey = new LinkedHashMap<>();
      for (int i = 0; i < inventory.reservedInstances().size(); i++) {
        ReservedInstance ri = inventory.reservedInstances().get(i);
        CloudProvider.ReservedInstanceUse use = new CloudProvider.ReservedInstanceUse(ri.instanceType(), ri.availabilityZone(), ri.count(),
            usage.reservedInstances().get(i));
        byKey.merge(Arrays.asList(ri.instanceType(), ri.availabilityZone()), use, (a, b) -> new CloudProvider.ReservedInstanceUse(a.instanceType(),
            a.availabilityZone(), a.count() + b.count(), a.inUse() + b.inUse()));
      }
      return List.copyOf(byKey.values());
    }
  }

  /** The account's Savings Plans as last read and how much of each the account's instances use now (none while the integration is off). */
  List<PlanUse> savingsPlans() {
    if (!enabled()) {
      return List.of();
    }
    synchronized (lock) {
      Usage usage = CommitmentCoverage.usage(inventory, inUse());
      List<PlanUse> out = new ArrayList<>();
      for (int p = 0; p < inventory.savingsPlans().size(); p++) {
        out.add(new PlanUse(inventory.savingsPlans().get(p), usage.savingsPlans().get(p)));
      }
      return out;
    }
  }

  /** For the provider's interface: the plans as the cloud contract reports them. */
  List<CloudProvider.SavingsPlanUse> savingsPlanUse() {
    return savingsPlans().stream().map(u -> new CloudProvider.SavingsPlanUse(u.plan().id(),
        u.plan().type() == PlanType.COMPUTE ? "Compute" : "EC2Instance", u.plan().family(), u.plan().commitment(), u.inUse())).toList();
  }
}
