package dev.dovetail.provisioner.cloud.aws.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dovetail.api.catalog.CapacityType;
import dev.dovetail.api.catalog.Catalog;
import dev.dovetail.api.catalog.InstanceType;
import dev.dovetail.provisioner.cloud.aws.AwsClients;
import dev.dovetail.testkit.MotoServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.pricing.PricingAsyncClient;

/**
 * The catalog refreshed through the real SDK: instance types, zone offerings and spot quotes from moto
 * server (the EC2 query protocol as moto models it), on-demand prices from a small Price List endpoint of
 * ours (moto has none) speaking the JSON 1.1 protocol with pages, errors and throttling on demand.
 */
class AwsCatalogMockTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static MotoServer moto;
  private static AwsClients aws;
  private static Vertx vertx;
  private static HttpServer priceList;
  private static PricingAsyncClient pricing;
  private static final ConcurrentLinkedQueue<JsonNode> requests = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger failNext = new AtomicInteger();
  private static volatile Map<String, String> prices = Map.of();
  private SimpleMeterRegistry registry;

  @BeforeAll
  static void start() throws Exception {
    moto = MotoServer.start();
    System.setProperty("aws.accessKeyId", MotoServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", MotoServer.SECRET_KEY);
    aws = new AwsClients(Optional.of(MotoServer.REGION), Optional.of(moto.endpoint()));
    vertx = Vertx.vertx();
    priceList = vertx.createHttpServer().requestHandler(r -> r.body().onSuccess(body -> {
      JsonNode request;
      try {
        request = JSON.readTree(body.toString());
      } catch (Exception e) {
        r.response().setStatusCode(400).end();
        return;
      }
      requests.add(request);
      String target = r.getHeader("X-Amz-Target");
      if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        r.response().setStatusCode(400).putHeader("Content-Type", "application/x-amz-json-1.1")
            .end("{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
        return;
      }
      if (!"AWSPriceListService.GetProducts".equals(target)) {
        r.response().setStatusCode(400).end("{\"__type\":\"UnknownOperationException\"}");
        return;
      }
      // Two products a page, as the real API pages (at most 100) and hands back a NextToken.
      List<String> names = prices.keySet().stream().sorted().toList();
      int from = request.hasNonNull("NextToken") ? Integer.parseInt(request.get("NextToken").asText()) : 0;
      ObjectNode answer = JSON.createObjectNode().put("FormatVersion", "aws_v1");
      ArrayNode list = answer.putArray("PriceList");
      for (int i = from; i < Math.min(from + 2, names.size()); i++) {
        list.add(AwsCatalogsTest.priceDocument(names.get(i), prices.get(names.get(i))));
      }
      if (from + 2 < names.size()) {
        answer.put("NextToken", String.valueOf(from + 2));
      }
      r.response().putHeader("Content-Type", "application/x-amz-json-1.1").end(answer.toString());
    })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    pricing = PricingAsyncClient.builder().region(Region.US_EAST_1).endpointOverride(URI.create("http://127.0.0.1:" + priceList.actualPort()))
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD)).build();
  }

  @AfterAll
  static void stop() {
    if (pricing != null) {
      pricing.close();
    }
    if (aws != null) {
      aws.close();
    }
    if (vertx != null) {
      vertx.close();
    }
    if (moto != null) {
      moto.close();
    }
  }

  @BeforeEach
  void reset() {
    requests.clear();
    failNext.set(0);
    prices = Map.of("m5.large", "0.5000000000", "c5.large", "0.4000000000", "t3.micro", "0.0104000000");
    registry = new SimpleMeterRegistry();
  }

  private AwsCatalog catalog() {
    return new AwsCatalog(aws.ec2(), pricing, AwsCatalog.Settings.defaults(MotoServer.REGION), Catalog.bundled(), registry);
  }

  private double refreshes(AwsCatalog.Part part, String outcome) {
    var counter = registry.find("dovetail.catalog.refreshes").tag("part", part.name()).tag("outcome", outcome).counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void typesZonesAndPricesComeFromAws() throws Exception {
    AwsCatalog catalog = catalog();

    Catalog refreshed = catalog.refreshAll().get(60, TimeUnit.SECONDS);

    assertThat(refreshes(AwsCatalog.Part.instance_types, "success")).isEqualTo(1);
    assertThat(refreshes(AwsCatalog.Part.on_demand_prices, "success")).isEqualTo(1);
    assertThat(refreshes(AwsCatalog.Part.spot_prices, "success")).isEqualTo(1);
    assertThat(catalog.get()).isSameAs(refreshed);
    assertThat(refreshed.region()).isEqualTo("us-east-1");
    assertThat(refreshed.size()).isGreaterThan(300);

    // Shape and zones from DescribeInstanceTypes / DescribeInstanceTypeOfferings (moto's tables).
    InstanceType m5 = refreshed.get("m5.large").orElseThrow();
    assertThat(m5.vcpu()).isEqualTo(2);
    assertThat(m5.memoryMiB()).isEqualTo(8192);
    assertThat(m5.architectures()).containsExactly("amd64");
    assertThat(m5.zones()).isNotEmpty().allMatch(z -> z.startsWith("us-east-1"));
    var offered = aws.ec2().describeInstanceTypeOfferings(r -> r.locationType("availability-zone")
        .filters(f -> f.name("instance-type").values("m5.large"))).get().instanceTypeOfferings();
    assertThat(m5.zones()).containsExactlyInAnyOrderElementsOf(offered.stream().map(o -> o.location()).toList());
    // The advisor's interruption bucket has no API: it stays what the bundled catalog knew.
    assertThat(m5.interruption()).isEqualTo(Catalog.bundled().get("m5.large").orElseThrow().interruption());

    // On-demand from the Price List API (all pages read), others keep the bundled price.
    assertThat(m5.onDemandPricePerHour()).isEqualTo(0.5);
    assertThat(refreshed.get("c5.large").orElseThrow().onDemandPricePerHour()).isEqualTo(0.4);
    assertThat(refreshed.get("m5.xlarge").orElseThrow().onDemandPricePerHour())
        .isEqualTo(Catalog.bundled().get("m5.xlarge").orElseThrow().onDemandPricePerHour());
    assertThat(requests).hasSize(2);
    JsonNode first = requests.peek();
    assertThat(first.get("ServiceCode").asText()).isEqualTo("AmazonEC2");
    Map<String, String> filters = new TreeMap<>();
    first.get("Filters").forEach(f -> filters.put(f.get("Field").asText(), f.get("Value").asText()));
    assertThat(filters).containsEntry("regionCode", "us-east-1").containsEntry("operatingSystem", "Linux")
        .containsEntry("tenancy", "Shared").containsEntry("preInstalledSw", "NA").containsEntry("capacitystatus", "Used");

    // Spot per zone from the spot price history (moto quotes every pool at 0.00001).
    String zone = m5.zones().get(0);
    assertThat(m5.pricePerHour(CapacityType.SPOT, zone)).isEqualTo(0.00001);
    assertThat(m5.spotPricesByZone()).containsOnlyKeys(m5.zones());
    assertThat(registry.get("dovetail.catalog.instance.types").gauge().value()).isEqualTo(refreshed.size());
  }

  @Test
  void aFailingPartKeepsItsLastGoodAnswerAndTheOthersStillRefresh() throws Exception {
    AwsCatalog catalog = catalog();
    catalog.refreshAll().get(60, TimeUnit.SECONDS);
    assertThat(catalog.get().get("m5.large").orElseThrow().onDemandPricePerHour()).isEqualTo(0.5);

    // The Price List API throttles past the SDK's retries; prices must not fall back or vanish meanwhile.
    prices = Map.of("m5.large", "0.9000000000");
    failNext.set(100);
    Catalog afterFailure = catalog.refreshAll().get(60, TimeUnit.SECONDS);

    assertThat(refreshes(AwsCatalog.Part.on_demand_prices, "failure")).isEqualTo(1);
    assertThat(refreshes(AwsCatalog.Part.instance_types, "success")).isEqualTo(2);
    assertThat(afterFailure.get("m5.large").orElseThrow().onDemandPricePerHour()).isEqualTo(0.5);
    assertThat(afterFailure.get("c5.large").orElseThrow().onDemandPricePerHour()).isEqualTo(0.4);

    failNext.set(0);
    Catalog recovered = catalog.refreshOnDemandPrices().get(60, TimeUnit.SECONDS);
    assertThat(recovered.get("m5.large").orElseThrow().onDemandPricePerHour()).isEqualTo(0.9);
    assertThat(catalog.get()).isSameAs(recovered);
  }

  @Test
  void beforeAwsAnswersTheBundledCatalogServesAndAnUnreachableApiNeverEmptiesIt() throws Exception {
    PricingAsyncClient nowhere = PricingAsyncClient.builder().region(Region.US_EAST_1).endpointOverride(URI.create("http://127.0.0.1:9"))
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD)).build();
    AwsClients unreachable = new AwsClients(Optional.of(MotoServer.REGION), Optional.of(URI.create("http://127.0.0.1:9")));
    try {
      AwsCatalog catalog = new AwsCatalog(unreachable.ec2(), nowhere, AwsCatalog.Settings.defaults(MotoServer.REGION), Catalog.bundled(), registry);
      assertThat(catalog.get()).isSameAs(Catalog.bundled());

      Catalog after = catalog.refreshAll().get(120, TimeUnit.SECONDS);

      assertThat(after.size()).isEqualTo(Catalog.bundled().size());
      for (AwsCatalog.Part part : AwsCatalog.Part.values()) {
        assertThat(refreshes(part, "failure")).as(part.name()).isEqualTo(1);
      }
      // Another Region has nothing bundled: it starts empty rather than pretending us-east-1's zones.
      AwsCatalog elsewhere = new AwsCatalog(unreachable.ec2(), nowhere, AwsCatalog.Settings.defaults("eu-west-1"), Catalog.bundled(),
          new SimpleMeterRegistry());
      assertThat(elsewhere.get().size()).isZero();
      assertThat(elsewhere.get().region()).isEqualTo("eu-west-1");
    } finally {
      nowhere.close();
      unreachable.close();
    }
  }
}
