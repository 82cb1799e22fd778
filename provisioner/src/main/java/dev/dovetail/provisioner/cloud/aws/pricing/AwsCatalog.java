package dev.dovetail.provisioner.cloud.aws.pricing;

import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.runtime.Failures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2AsyncClient;
import software.amazon.awssdk.services.ec2.model.InstanceTypeInfo;
import software.amazon.awssdk.services.ec2.model.LocationType;
import software.amazon.awssdk.services.ec2.model.SpotPrice;
import software.amazon.awssdk.services.pricing.PricingAsyncClient;
import software.amazon.awssdk.services.pricing.model.Filter;
import software.amazon.awssdk.services.pricing.model.FilterType;

/**
 * The catalog as AWS reports it for the cluster's Region, kept current: instance types and the zones
 * offering them (DescribeInstanceTypes, DescribeInstanceTypeOfferings), on-demand prices from the Price
 * List API, spot quotes per zone from the spot price history. Each part refreshes on its own period,
 * asynchronously on the SDK's event loop; a part that fails keeps its last good answer (at first the
 * bundled catalog's), so a throttled or forbidden call degrades prices, never the provisioner. Readers
 * get an immutable {@link Catalog}, replaced whole after each refresh.
 */
public final class AwsCatalog implements Supplier<Catalog>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AwsCatalog.class);

  /** Refresh periods; Karpenter refreshes types and prices twice a day, spot moves faster. */
  public record Settings(String region, Duration types, Duration onDemandPrices, Duration spotPrices) {
    public static Settings defaults(String region) {
      return new Settings(region, Duration.ofHours(12), Duration.ofHours(12), Duration.ofHours(1));
    }
  }

  /** The parts, as named in logs and in the refresh metric's {@code part} tag. */
  public enum Part { instance_types, on_demand_prices, spot_prices }

  private final Ec2AsyncClient ec2;
  private final PricingAsyncClient pricing;
  private final Settings settings;
  private final Catalog bundled;
  private final MeterRegistry registry;
  private final AtomicReference<Catalog> current;
  private volatile List<InstanceType> types;
  private volatile Map<String, Double> onDemand = Map.of();
  private volatile Map<String, Map<String, Double>> spot = Map.of();
  private final CompletableFuture<Void> firstRefresh = new CompletableFuture<>();
  private final List<ScheduledFuture<?>> schedules = new ArrayList<>();
  private final Map<Part, Long> lastSuccess = new ConcurrentHashMap<>();

  /** @param bundled what is known before AWS answers (used as is when it covers the same Region) */
  public AwsCatalog(Ec2AsyncClient ec2, PricingAsyncClient pricing, Settings settings, Catalog bundled, MeterRegistry registry) {
    this.ec2 = ec2;
    this.pricing = pricing;
    this.settings = settings;
    this.bundled = bundled;
    this.registry = registry;
    boolean sameRegion = bundled.region().equals(settings.region());
    this.types = sameRegion ? List.copyOf(bundled.all()) : List.of();
    this.current = new AtomicReference<>(sameRegion ? bundled : new Catalog(settings.region(), List.of()));
    Gauge.builder("dovetail.catalog.instance.types", current, c -> c.get().size())
        .description("Instance types in the catalog the provisioner chooses from (priced, offered in the Region)").register(registry);
    for (Part part : Part.values()) {
      Gauge.builder("dovetail.catalog.age", lastSuccess, m -> m.containsKey(part) ? (System.currentTimeMillis() - m.get(part)) / 1000.0 : Double.NaN)
          .tag("part", part.name()).baseUnit("seconds").description("Time since this part of the catalog was last refreshed from AWS")
          .register(registry);
    }
  }

  @Override
  public Catalog get() {
    return current.get();
  }

  /** Completes once the first refresh of every part has answered or failed. */
  public CompletableFuture<Void> firstRefresh() {
    return firstRefresh;
  }

  /** Refreshes everything now, then each part on its period. */
  public AwsCatalog start(ScheduledExecutorService timer) {
    refreshAll().whenComplete((c, e) -> firstRefresh.complete(null));
    schedule(timer, settings.types(), this::refreshTypes);
    schedule(timer, settings.onDemandPrices(), this::refreshOnDemandPrices);
    schedule(timer, settings.spotPrices(), this::refreshSpotPrices);
    return this;
  }

  private void schedule(ScheduledExecutorService timer, Duration every, Supplier<CompletableFuture<Catalog>> refresh) {
    long ms = every.toMillis();
    synchronized (schedules) {
      schedules.add(timer.scheduleWithFixedDelay(() -> refresh.get(), ms, ms, TimeUnit.MILLISECONDS));
    }
  }

  public CompletableFuture<Catalog> refreshAll() {
    return CompletableFuture.allOf(refreshTypes(), refreshOnDemandPrices(), refreshSpotPrices()).handle((ignored, e) -> current.get());
  }

  /** Instance types and the zones offering them; a type no zone offers is left out. */
  public CompletableFuture<Catalog> refreshTypes() {
    List<InstanceTypeInfo> infos = Collections.synchronizedList(new ArrayList<>());
    Map<String, Set<String>> zones = new ConcurrentHashMap<>();
    CompletableFuture<Void> described = ec2.describeInstanceTypesPaginator(b -> b.maxResults(100))
        .subscribe(r -> infos.addAll(r.instanceTypes()));
    CompletableFuture<Void> offered = ec2.describeInstanceTypeOfferingsPaginator(b -> b.locationType(LocationType.AVAILABILITY_ZONE))
        .subscribe(r -> r.instanceTypeOfferings().forEach(o ->
            zones.computeIfAbsent(o.instanceTypeAsString(), t -> Collections.synchronizedSet(new TreeSet<>())).add(o.location())));
    return track(Part.instance_types, CompletableFuture.allOf(described, offered).thenApply(done -> {
      List<InstanceType> fresh = new ArrayList<>(infos.size());
      synchronized (infos) {
        for (InstanceTypeInfo info : infos) {
          Set<String> where = zones.get(info.instanceTypeAsString());
          if (where != null && !where.isEmpty()) {
            fresh.add(AwsCatalogs.instanceType(info, where, bundled.get(info.instanceTypeAsString())));
          }
        }
      }
      if (fresh.isEmpty()) {
        throw new IllegalStateException("EC2 described no instance type offered in " + settings.region() + " (" + infos.size()
            + " types, " + zones.size() + " offered): keeping the previous catalog");
      }
      types = List.copyOf(fresh);
      return fresh.size() + " instance types";
    }));
  }

  /** On-demand Linux prices of shared-tenancy instances in the Region, from the Price List API. */
  public CompletableFuture<Catalog> refreshOnDemandPrices() {
    Map<String, Double> prices = new ConcurrentHashMap<>();
    List<Filter> filters = List.of(
        term("regionCode", settings.region()),
        term("operatingSystem", "Linux"),
        term("tenancy", "Shared"),
        term("preInstalledSw", "NA"),
        term("capacitystatus", "Used"),
        term("productFamily", "Compute Instance"));
    CompletableFuture<Void> listed = pricing.getProductsPaginator(b -> b.serviceCode("AmazonEC2").formatVersion("aws_v1").filters(filters))
        .subscribe(r -> r.priceList().forEach(doc -> AwsCatalogs.onDemandPrice(doc)
            .ifPresent(p -> prices.merge(p.getKey(), p.getValue(), Math::min))));
    return track(Part.on_demand_prices, listed.thenApply(done -> {
      if (prices.isEmpty()) {
        throw new IllegalStateException("the Price List API listed no on-demand price for " + settings.region() + ": keeping the previous prices");
      }
      onDemand = Map.copyOf(prices);
      return prices.size() + " on-demand prices";
    }));
  }

  /** The current spot price of every Linux pool in the Region (the history from now holds the latest quote of each). */
  public CompletableFuture<Catalog> refreshSpotPrices() {
    List<SpotPrice> history = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> listed = ec2.describeSpotPriceHistoryPaginator(b -> b.startTime(Instant.now())
            .productDescriptions("Linux/UNIX", "Linux/UNIX (Amazon VPC)").maxResults(1000))
        .subscribe(r -> history.addAll(r.spotPriceHistory()));
    return track(Part.spot_prices, listed.thenApply(done -> {
      Map<String, Map<String, Double>> latest;
      synchronized (history) {
        latest = AwsCatalogs.latestSpotPrices(history);
      }
      spot = latest;
      return latest.values().stream().mapToInt(Map::size).sum() + " spot quotes";
    }));
  }

  private static Filter term(String field, String value) {
    return Filter.builder().type(FilterType.TERM_MATCH).field(field).value(value).build();
  }

  /** Counts the outcome, rebuilds the catalog after a success, logs a failure; never fails itself. */
  private CompletableFuture<Catalog> track(Part part, CompletableFuture<String> refresh) {
    return refresh.handle((what, error) -> {
      if (error != null) {
        Throwable cause = Failures.cause(error);
        LOG.warn("refreshing {} of the {} catalog failed (keeping the last good answer): {}", part, settings.region(), cause.toString());
        count(part, "failure");
        return current.get();
      }
      Catalog rebuilt = rebuild();
      lastSuccess.put(part, System.currentTimeMillis());
      count(part, "success");
      LOG.info("catalog {} refreshed from AWS: {}; {} instance types priced", part, what, rebuilt.size());
      return rebuilt;
    });
  }

  private synchronized Catalog rebuild() {
    AwsCatalogs.Assembly assembly = AwsCatalogs.assemble(settings.region(), types, onDemand, spot);
    if (!assembly.unpriced().isEmpty()) {
      LOG.debug("{} instance types have no on-demand price and are left out: {}", assembly.unpriced().size(), assembly.unpriced());
    }
    current.set(assembly.catalog());
    return assembly.catalog();
  }

  private void count(Part part, String outcome) {
    Counter.builder("dovetail.catalog.refreshes").tag("part", part.name()).tag("outcome", outcome)
        .description("Refreshes of the catalog from AWS, by part and outcome").register(registry).increment();
  }

  @Override
  public void close() {
    synchronized (schedules) {
      schedules.forEach(s -> s.cancel(false));
      schedules.clear();
    }
  }
}
