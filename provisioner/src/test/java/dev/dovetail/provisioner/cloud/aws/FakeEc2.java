package dev.dovetail.provisioner.cloud.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dovetail.api.aws.v1.EC2NodeClassStatus;
import dev.dovetail.api.common.Condition;
import dev.dovetail.api.karpenter.v1.WellKnownLabels;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake EC2 endpoint speaking the EC2 Query protocol, for what moto does not model: per-pool
 * insufficient capacity reported in CreateFleet's {@code Errors[]} (partial fulfilment), throttling
 * ({@code RequestLimitExceeded}), internal errors, slow answers and connection resets, and client-token
 * idempotency. It keeps just enough state for the provider's launch path: launch templates, instances
 * with their tags, terminations. The real SDK talks to it, so its marshalling and retries are exercised.
 * Started {@linkplain #start(URI) in front of moto server}, it passes every call it does not model
 * (subnets, security groups, images, SSM, IAM, …) through to moto, so a whole provisioner can run on it.
 * Started as a {@linkplain #recorder recorder}, it models nothing and passes every call on. Either way it
 * logs every call with what it did to it ({@link #calls}: the fault it injected, the instances launched,
 * a replayed token, the pools that failed), so a test can tell that a fault fired and what came after it.
 */
public final class FakeEc2 implements AutoCloseable {
  private static final String NS = "http://ec2.amazonaws.com/doc/2016-11-15/";

  public record FakeInstance(String id, String type, String zone, String lifecycle, String imageId, Map<String, String> tags, Instant launched,
      AtomicReference<String> state, String reservation) {
  }

  /** What the fake did to a call instead of answering it as asked. */
  public enum Fault { NONE, THROTTLED, INTERNAL_ERROR, CONNECTION_RESET, ANSWER_LOST }

  /**
   * One call, logged once the fake is done with it, numbered in the order the calls arrived.
   *
   * @param received   when its body had arrived
   * @param done       when what it asked for was done: for a call passed through, when the endpoint behind answered
   * @param answered   when its answer went back to the caller; null when the fake closed the connection instead (a
   *                   reset, a lost answer) or the caller had gone
   * @param params     as {@link #requests} records them (no overrides, no tags); for a JSON-protocol call, none
   * @param claim      the NodeClaim a CreateFleet tags its instance for, else null
   * @param status     the HTTP status of the answer (0 when there was none)
   * @param errorCode  the EC2 error code of an error answer, else null
   * @param delayed    how long the fake waited before handling the call ({@link #delay})
   * @param held       how long the fake held the answer back once the call was done ({@link #holdAnswers})
   * @param launched   the instance IDs a CreateFleet answer names
   * @param replayed   the answer was an earlier CreateFleet's with the same client token: nothing was launched anew
   * @param poolErrors the pools a CreateFleet answer reports failed, as {@code type/zone/lifecycle: code}
   */
  public record Call(long seq, Instant received, Instant done, Instant answered, String action, Map<String, String> params, String claim,
      Fault fault, int status, String errorCode, Duration delayed, Duration held, List<String> launched, boolean replayed, List<String> poolErrors) {
    public String clientToken() {
      return params.get("ClientToken");
    }

    /**
     * A JSON-protocol call (SSM, Pricing: its action is the {@code X-Amz-Target}, such as
     * {@code AmazonSSM.GetParameter}), which the fake forwards untouched: no fault or delay applies to it.
     */
    public boolean forwarded() {
      return action.contains(".");
    }

    /** Answered with 200 (whatever the answer says inside: a CreateFleet may have launched nothing). */
    public boolean succeeded() {
      return status == 200 && answered != null;
    }

    /** The values of a filter of a Describe call ({@code Filter.N.Name = name}). */
    public List<String> filterValues(String name) {
      List<String> out = new ArrayList<>();
      for (int f = 1; params.containsKey("Filter." + f + ".Name"); f++) {
        if (name.equals(params.get("Filter." + f + ".Name"))) {
          for (int v = 1; params.containsKey("Filter." + f + ".Value." + v); v++) {
            out.add(params.get("Filter." + f + ".Value." + v));
          }
        }
      }
      return out;
    }

    /** The instance IDs a Describe or Terminate call names. */
    public List<String> instanceIds() {
      return values(params, "InstanceId.");
    }
  }

  /** An on-demand capacity reservation: room for {@code available} more instances of one type in one zone. */
  record FakeReservation(String id, String type, String zone, String matchCriteria, Map<String, String> tags, int total, AtomicInteger available) {
  }

  /**
   * A Reserved Instance purchase: {@code count} instances of a type, regional when {@code zone} is null.
   *
   * @param productDescription such as {@code Linux/UNIX} or {@code Windows}
   * @param state              {@code active}, {@code retired}, ...
   */
  record FakeReservedInstance(String id, String type, String zone, int count, String productDescription, String tenancy, String state) {
  }

  /** A Savings Plan: its type ({@code Compute}, {@code EC2Instance}), family, Region, hourly commitment and rates by usage. */
  record FakeSavingsPlan(String id, String type, String family, String region, String commitment, String state, List<FakeRate> rates) {
  }

  /** One rate of a plan, as DescribeSavingsPlanRates lists it. */
  record FakeRate(String instanceType, String region, String productDescription, String tenancy, String rate) {
    String usageType() {
      return ("us-east-1".equals(region) ? "USE1" : region.toUpperCase(Locale.ROOT)) + "-"
          + ("dedicated".equals(tenancy) ? "DedicatedUsage:" : "BoxUsage:") + instanceType;
    }
  }

  private final Vertx vertx;
  private final HttpServer server;
  private final Set<String> noCapacity = ConcurrentHashMap.newKeySet();
  private final AtomicInteger throttle = new AtomicInteger();
  private final AtomicInteger internalErrors = new AtomicInteger();
  private final AtomicInteger resets = new AtomicInteger();
  private final AtomicInteger dropAnswers = new AtomicInteger();
  private volatile Duration delay = Duration.ZERO;
  private volatile Duration hold = Duration.ZERO;
  private volatile Set<String> holdActions = Set.of();
  private volatile Set<String> faultActions = Set.of("CreateFleet");
  /** Whether CreateFleet, DescribeInstances and the rest it models are answered here (else every call is passed through). */
  private final boolean modelled;
  private final Map<String, FakeInstance> instances = new ConcurrentHashMap<>();
  /** Instance IDs by their NodeClaim tag: the provider looks instances up by it before each launch. */
  private final Map<String, List<String>> byClaim = new ConcurrentHashMap<>();
  private final Map<String, String> templates = new ConcurrentHashMap<>();
  /** The reservation each launch template targets, by template name. */
  private final Map<String, String> templateReservation = new ConcurrentHashMap<>();
  private final Map<String, FakeReservation> reservations = new ConcurrentHashMap<>();
  /** Reserved Instances of the account, by ID (DescribeReservedInstances). */
  private final Map<String, FakeReservedInstance> reservedInstances = new ConcurrentHashMap<>();
  /** Savings Plans of the account, by ID (DescribeSavingsPlans, DescribeSavingsPlanRates at the same endpoint, JSON protocol). */
  private final Map<String, FakeSavingsPlan> savingsPlans = new ConcurrentHashMap<>();
  private final Map<String, FleetAnswer> responsesByToken = new ConcurrentHashMap<>();
  private final Queue<Map<String, String>> requests = new ConcurrentLinkedQueue<>();
  private final Queue<Call> calls = new ConcurrentLinkedQueue<>();
  /** Calls carried out whose answers are being held back, by number. */
  private final Map<Long, Call> heldNow = new ConcurrentHashMap<>();
  private final AtomicLong seqs = new AtomicLong();
  private final AtomicLong ids = new AtomicLong(0x1000);

  private final Optional<URI> passThrough;
  private final HttpClient forwarder;

  private FakeEc2(Vertx vertx, HttpServer server, Optional<URI> passThrough, boolean modelled) {
    this.vertx = vertx;
    this.server = server;
    this.passThrough = passThrough;
    this.modelled = modelled;
    this.forwarder = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
  }

  public static FakeEc2 start() throws Exception {
    return start(null);
  }

  /** @param passThrough where calls this fake does not model go (a moto server), or null to refuse them */
  public static FakeEc2 start(URI passThrough) throws Exception {
    return start(passThrough, true);
  }

  /**
   * A front that models nothing: every call goes on to {@code passThrough} (a moto server) and its answer
   * back, logged as {@link #calls} (with the instances a CreateFleet launched there), and held back if
   * {@link #holdAnswers} says so. The fault knobs still apply.
   */
  public static FakeEc2 recorder(URI passThrough) throws Exception {
    return start(Objects.requireNonNull(passThrough), false);
  }

  private static FakeEc2 start(URI passThrough, boolean modelled) throws Exception {
    Vertx vertx = Vertx.vertx();
    FakeEc2[] self = new FakeEc2[1];
    HttpServer server = vertx.createHttpServer().requestHandler(r -> self[0].handle(r));
    self[0] = new FakeEc2(vertx, server, Optional.ofNullable(passThrough), modelled);
    server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return self[0];
  }

  /**
   * A node class status as the resolver would write it for this fake's account (which has no subnets,
   * groups or images of its own): subnets in us-east-1a and 1b, one security group, an amd64 AMI.
   */
  static EC2NodeClassStatus resolvedStatus(List<EC2NodeClassStatus.CapacityReservation> reservations,
      List<Condition> conditions) {
    return new EC2NodeClassStatus(
        List.of(new EC2NodeClassStatus.Subnet("subnet-a", "us-east-1a", "use1-az1"),
            new EC2NodeClassStatus.Subnet("subnet-b", "us-east-1b", "use1-az2")),
        List.of(new EC2NodeClassStatus.SecurityGroup("sg-1", "nodes")),
        List.of(new EC2NodeClassStatus.Ami("ami-0abc", "al2023", null, List.of(
            new EC2NodeClassStatus.AmiRequirement(WellKnownLabels.ARCH, "In", List.of("amd64"))))),
        reservations, "profile", conditions);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  // --- fault knobs ----------------------------------------------------------------------------------

  /** CreateFleet finds no capacity in this pool ({@code *} for any part), e.g. {@code ("*", "us-east-1a", "spot")}. */
  public void noCapacity(String instanceType, String zone, String lifecycle) {
    noCapacity.add(instanceType + "|" + zone + "|" + lifecycle);
  }

  public void clearFaults() {
    noCapacity.clear();
    throttle.set(0);
    internalErrors.set(0);
    resets.set(0);
    dropAnswers.set(0);
    delay = Duration.ZERO;
    hold = Duration.ZERO;
    holdActions = Set.of();
  }

  /** Fault shots set by the knobs and not fired yet (throttles, errors, resets, lost answers). */
  public int faultsNotFired() {
    return throttle.get() + internalErrors.get() + resets.get() + dropAnswers.get();
  }

  /** The next {@code n} calls of the fault actions answer RequestLimitExceeded. */
  public void throttleNext(int n) {
    throttle.set(n);
  }

  /** The next {@code n} calls of the fault actions answer 500 InternalError. */
  public void failNext(int n) {
    internalErrors.set(n);
  }

  /** The next {@code n} calls of the fault actions have their connection closed without an answer. */
  public void resetNext(int n) {
    resets.set(n);
  }

  /** The next {@code n} calls of the fault actions are carried out, then their connection is closed: the answer is lost. */
  public void dropAnswerNext(int n) {
    dropAnswers.set(n);
  }

  /** A targeted capacity reservation of {@code count} instances; returns its ID. */
  String reserve(String type, String zone, int count, Map<String, String> tags) {
    String id = "cr-" + String.format("%017x", ids.incrementAndGet());
    reservations.put(id, new FakeReservation(id, type, zone, "targeted", Map.copyOf(tags), count, new AtomicInteger(count)));
    return id;
  }

  FakeReservation reservation(String id) {
    return reservations.get(id);
  }

  /** An active Linux/UNIX Reserved Instance on default tenancy, regional when {@code zone} is null; returns its ID. */
  String reservedInstance(String type, String zone, int count) {
    return reservedInstance(type, zone, count, "Linux/UNIX", "default", "active");
  }

  String reservedInstance(String type, String zone, int count, String productDescription, String tenancy, String state) {
    String id = UUID.randomUUID().toString();
    reservedInstances.put(id, new FakeReservedInstance(id, type, zone, count, productDescription, tenancy, state));
    return id;
  }

  /** An active Savings Plan with Linux/UNIX shared-tenancy rates in us-east-1 by instance type ({@code family} null for Compute); returns its ID. */
  String savingsPlan(String type, String family, double commitment, Map<String, Double> rates) {
    List<FakeRate> list = new ArrayList<>();
    new TreeMap<>(rates).forEach((t, r) -> {
      list.add(new FakeRate(t, "us-east-1", "Linux/UNIX", "shared", Double.toString(r)));
      // What the filters leave out: the same type on Windows, on dedicated tenancy and in another Region, dearer.
      list.add(new FakeRate(t, "us-east-1", "Windows", "shared", Double.toString(r * 3)));
      list.add(new FakeRate(t, "us-east-1", "Linux/UNIX", "dedicated", Double.toString(r * 2)));
      list.add(new FakeRate(t, "eu-west-1", "Linux/UNIX", "shared", Double.toString(r * 1.1)));
    });
    String id = UUID.randomUUID().toString();
    savingsPlans.put(id, new FakeSavingsPlan(id, type, family, "EC2Instance".equals(type) ? "us-east-1" : null, Double.toString(commitment), "active",
        List.copyOf(list)));
    return id;
  }

  /** Savings Plans in other states or of other products, which cover nothing the provider launches. */
  String savingsPlan(String type, String family, double commitment, Map<String, Double> rates, String state) {
    String id = savingsPlan(type, family, commitment, rates);
    FakeSavingsPlan p = savingsPlans.get(id);
    savingsPlans.put(id, new FakeSavingsPlan(id, p.type(), p.family(), p.region(), p.commitment(), state, p.rates()));
    return id;
  }

  /**
   * An instance started outside the provider (another cluster's, or by hand): untagged unless tags are given,
   * {@code on-demand} or {@code spot}, in a capacity reservation when one is named; returns its ID.
   */
  String runInstance(String type, String zone, String lifecycle, String reservation, Map<String, String> tags, String state) {
    String id = "i-" + String.format("%017x", ids.incrementAndGet());
    instances.put(id, new FakeInstance(id, type, zone, lifecycle, "ami-0abc", Map.copyOf(tags), Instant.now(), new AtomicReference<>(state), reservation));
    return id;
  }

  /** Every instance is gone (a fresh account). */
  void clearInstances() {
    instances.clear();
    byClaim.clear();
  }

  /** The account's Reserved Instances and Savings Plans are gone (expired, say). */
  void clearCommitments() {
    reservedInstances.clear();
    savingsPlans.clear();
  }

  /** The reservation a launch template targets, if any. */
  Optional<String> reservationOfTemplate(String name) {
    return Optional.ofNullable(templateReservation.get(name));
  }

  /** Launch templates vanish (deleted by hand in the console, say). */
  void forgetTemplates() {
    templates.clear();
  }

  /** Every call waits this long before the fake handles it (a slow endpoint: nothing happens until then). */
  public void delay(Duration d) {
    this.delay = d;
  }

  /**
   * Calls of these actions are carried out at once, their answers held back this long (as EC2 launches an
   * instant fleet's instance well before its answer arrives).
   */
  public void holdAnswers(Duration d, String... actions) {
    this.hold = d;
    this.holdActions = Set.of(actions);
  }

  /** Which actions the throttle, error and reset knobs apply to (CreateFleet by default). */
  public void faultsOn(String... actions) {
    this.faultActions = Set.of(actions);
  }

  public List<Map<String, String>> requests(String action) {
    return requests.stream().filter(r -> action.equals(r.get("Action"))).toList();
  }

  /** Every call the fake is done with, in the order they arrived. */
  public List<Call> calls() {
    return calls.stream().sorted(Comparator.comparingLong(Call::seq)).toList();
  }

  public List<Call> calls(String action) {
    return calls().stream().filter(c -> action.equals(c.action())).toList();
  }

  /** Calls carried out whose answers the fake is holding back now ({@link Call#answered} null until they go). */
  public List<Call> held() {
    return heldNow.values().stream().sorted(Comparator.comparingLong(Call::seq)).toList();
  }

  /** The number the next call to arrive will get: calls from now on have this or a higher {@link Call#seq}. */
  public long nextSeq() {
    return seqs.get() + 1;
  }

  /**
   * The later calls, answered 200, that together asked what a failed one asked: a CreateFleet with the same
   * client token; for a DescribeInstances naming instance IDs or NodeClaims, for each of them the first later
   * DescribeInstances naming it (batched lookups are regrouped on a retry: a claim may come back alone or
   * with others), or one with the same filters when it names neither; any other call with the same
   * parameters. Empty when some part of the failed call was never asked again.
   */
  public List<Call> retriesOf(Call failed) {
    List<Call> later = calls().stream().filter(c -> c.seq() > failed.seq() && c.succeeded() && c.action().equals(failed.action())).toList();
    List<String> claims = failed.filterValues("tag:" + AwsCloudProvider.NODECLAIM_TAG);
    if (!"DescribeInstances".equals(failed.action()) || failed.instanceIds().isEmpty() && claims.isEmpty()) {
      return later.stream().filter(c -> switch (failed.action()) {
        case "CreateFleet" -> Objects.equals(c.clientToken(), failed.clientToken());
        case "DescribeInstances" -> filters(c).equals(filters(failed));
        default -> c.params().equals(failed.params());
      }).limit(1).toList();
    }
    List<Call> retries = new ArrayList<>();
    for (String id : failed.instanceIds()) {
      Optional<Call> retry = later.stream().filter(c -> c.instanceIds().contains(id)).findFirst();
      if (retry.isEmpty()) {
        return List.of();
      }
      retries.add(retry.get());
    }
    for (String claim : claims) {
      Optional<Call> retry = later.stream().filter(c -> c.filterValues("tag:" + AwsCloudProvider.NODECLAIM_TAG).contains(claim)).findFirst();
      if (retry.isEmpty()) {
        return List.of();
      }
      retries.add(retry.get());
    }
    return retries.stream().distinct().sorted(Comparator.comparingLong(Call::seq)).toList();
  }

  private static Map<String, String> filters(Call c) {
    Map<String, String> out = new TreeMap<>();
    c.params().forEach((k, v) -> {
      if (k.startsWith("Filter.")) {
        out.put(k, v);
      }
    });
    return out;
  }

  public Map<String, FakeInstance> instances() {
    return Collections.unmodifiableMap(instances);
  }

  /** Live (not terminated) instances tagged for a NodeClaim. */
  public List<FakeInstance> liveFor(String claim) {
    return byClaim.getOrDefault(claim, List.of()).stream().map(instances::get).filter(i -> !"terminated".equals(i.state().get())).toList();
  }

  // --- protocol -------------------------------------------------------------------------------------

  private void handle(HttpServerRequest request) {
    request.body().onSuccess(body -> {
      if (request.getHeader("X-Amz-Target") != null) {
        // A JSON-protocol service (SSM, Pricing): never EC2.
        forward(new Exchange(request, request.getHeader("X-Amz-Target"), Map.of(), null), body);
        return;
      }
      if (request.path().startsWith("/DescribeSavingsPlan")) {
        // Savings Plans (REST JSON protocol: the operation is the path, the input a JSON body), at the same endpoint override.
        String action = request.path().substring(1);
        Map<String, String> call = Map.of("Action", action, "Body", body.toString(StandardCharsets.UTF_8));
        requests.add(call);
        Exchange exchange = new Exchange(request, action, call, null);
        Duration wait = delay;
        exchange.delayed = wait;
        Runnable answer = () -> answer(exchange, action, call, body);
        if (wait.isZero()) {
          answer.run();
        } else {
          vertx.setTimer(wait.toMillis(), t -> answer.run());
        }
        return;
      }
      Map<String, String> form = form(body.toString(StandardCharsets.UTF_8));
      // Recorded without the bulky lists (overrides, tags), so a benchmark's thousands of calls stay light.
      Map<String, String> recorded = new LinkedHashMap<>();
      form.forEach((k, v) -> {
        if (!k.startsWith("LaunchTemplateConfigs.1.Overrides.") && !k.startsWith("TagSpecification.")) {
          recorded.put(k, v);
        }
      });
      recorded.put("Overrides", Long.toString(form.keySet().stream().filter(k -> k.endsWith(".InstanceType")).count()));
      requests.add(recorded);
      String action = form.getOrDefault("Action", "");
      Exchange exchange = new Exchange(request, action, Collections.unmodifiableMap(recorded), "CreateFleet".equals(action) ? instanceTags(form)
          .get(AwsCloudProvider.NODECLAIM_TAG) : null);
      Duration wait = delay;
      exchange.delayed = wait;
      Runnable answer = () -> answer(exchange, action, form, body);
      if (wait.isZero()) {
        answer.run();
      } else {
        vertx.setTimer(wait.toMillis(), t -> answer.run());
      }
    });
  }

  /**
   * A call being handled: its HTTP exchange and what the log will say of it. The answer goes through
   * {@link #ok}, {@link #error}, {@link #relay} or {@link #close}, each of which logs the call once.
   */
  private final class Exchange {
    final HttpServerRequest http;
    final long seq = seqs.incrementAndGet();
    final Instant received = Instant.now();
    final String action;
    final Map<String, String> params;
    final String claim;
    Duration delayed = Duration.ZERO;
    List<String> launched = List.of();
    boolean replayed;
    List<String> poolErrors = List.of();
    boolean dropAnswer;

    Exchange(HttpServerRequest http, String action, Map<String, String> params, String claim) {
      this.http = http;
      this.action = action;
      this.params = params;
      this.claim = claim;
    }

    void ok(String xml) {
      send(200, null, Map.of("content-type", "text/xml;charset=UTF-8"), Buffer.buffer(xml), Fault.NONE);
    }

    void okJson(String json) {
      send(200, null, Map.of("content-type", "application/json"), Buffer.buffer(json), Fault.NONE);
    }

    void error(int status, String code, String message, Fault fault) {
      send(status, code, Map.of("content-type", "text/xml;charset=UTF-8"), Buffer.buffer("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
          + "<Response><Errors><Error><Code>" + code + "</Code><Message>" + xml(message) + "</Message></Error></Errors><RequestID>" + requestId()
          + "</RequestID></Response>"), fault);
    }

    /** The pass-through endpoint's answer, as it came. */
    void relay(int status, Map<String, String> headers, Buffer body) {
      String text = body.toString(StandardCharsets.UTF_8);
      if ("CreateFleet".equals(action)) {
        launched = instanceIdsOf(text);
      }
      if (dropAnswer) {
        close(Fault.ANSWER_LOST);
        return;
      }
      Matcher code = ERROR_CODE.matcher(text);
      send(status, status >= 400 && code.find() ? code.group(1) : null, headers, body, Fault.NONE);
    }

    /** No answer: the connection is closed (after the call was carried out, for a lost answer). */
    void close(Fault fault) {
      log(Instant.now(), null, 0, null, Duration.ZERO, fault);
      http.connection().close();
    }

    private void send(int status, String errorCode, Map<String, String> headers, Buffer body, Fault fault) {
      Instant done = Instant.now();
      Duration held = holdActions.contains(action) ? hold : Duration.ZERO;
      Runnable write = () -> {
        boolean gone = http.response().closed();
        // Logged before the answer leaves, so a caller that has it finds the call in the log.
        log(done, gone ? null : Instant.now(), status, errorCode, held, fault);
        if (gone) {
          return;
        }
        try {
          http.response().setStatusCode(status);
          headers.forEach(http.response()::putHeader);
          http.response().end(body);
        } catch (IllegalStateException closedMeanwhile) {
          // the caller went away (killed): nothing to answer
        }
      };
      if (held.isZero()) {
        write.run();
      } else {
        heldNow.put(seq, call(done, null, status, errorCode, held, fault));
        vertx.setTimer(held.toMillis(), t -> {
          write.run();
          heldNow.remove(seq);
        });
      }
    }

    private void log(Instant done, Instant answered, int status, String errorCode, Duration held, Fault fault) {
      calls.add(call(done, answered, status, errorCode, held, fault));
    }

    private Call call(Instant done, Instant answered, int status, String errorCode, Duration held, Fault fault) {
      return new Call(seq, received, done, answered, action, params, claim, fault, status, errorCode, delayed, held, List.copyOf(launched),
          replayed, List.copyOf(poolErrors));
    }
  }

  private static final Pattern ERROR_CODE = Pattern.compile("<Code>([^<]+)</Code>");
  private static final Pattern INSTANCE_IDS = Pattern.compile("<instanceIds>(.*?)</instanceIds>",
      Pattern.DOTALL);
  private static final Pattern INSTANCE_ID = Pattern.compile("\\bi-[0-9a-f]+\\b");

  /** The instance IDs a CreateFleet answer lists. */
  static List<String> instanceIdsOf(String createFleetAnswer) {
    List<String> ids = new ArrayList<>();
    Matcher lists = INSTANCE_IDS.matcher(createFleetAnswer);
    while (lists.find()) {
      Matcher id = INSTANCE_ID.matcher(lists.group(1));
      while (id.find()) {
        ids.add(id.group());
      }
    }
    return ids;
  }

  /** The tags a CreateFleet puts on its instance. */
  private static Map<String, String> instanceTags(Map<String, String> form) {
    Map<String, String> tags = new TreeMap<>();
    for (Map<String, String> spec : indexed(form, "TagSpecification.")) {
      if ("instance".equals(spec.get("ResourceType"))) {
        for (int t = 1; spec.containsKey("Tag." + t + ".Key"); t++) {
          tags.put(spec.get("Tag." + t + ".Key"), spec.getOrDefault("Tag." + t + ".Value", ""));
        }
      }
    }
    return tags;
  }

  private void answer(Exchange request, String action, Map<String, String> form, Buffer body) {
    if (faultActions.contains(action)) {
      if (take(resets)) {
        request.close(Fault.CONNECTION_RESET);
        return;
      }
      if (take(throttle)) {
        request.error(503, "RequestLimitExceeded", "Request limit exceeded.", Fault.THROTTLED);
        return;
      }
      if (take(internalErrors)) {
        request.error(500, "InternalError", "An internal error has occurred", Fault.INTERNAL_ERROR);
        return;
      }
    }
    boolean drop = faultActions.contains(action) && take(dropAnswers);
    try {
      if (drop && !modelled) {
        request.dropAnswer = true;  // carried out behind, then the connection closed
        forward(request, body);
        return;
      }
      if (drop) {
        if ("CreateFleet".equals(action)) {
          createFleet(request, form);
        }
        request.close(Fault.ANSWER_LOST);
        return;
      }
      if (!modelled) {
        forward(request, body);
        return;
      }
      switch (action) {
        case "CreateFleet" -> createFleetOrNotFound(request, form);
        case "DescribeInstances" -> describeInstances(request, form);
        case "TerminateInstances" -> terminateInstances(request, form);
        case "DescribeLaunchTemplates" -> describeLaunchTemplates(request, form);
        case "CreateLaunchTemplate" -> ok(request, createLaunchTemplate(form));
        case "DescribeCapacityReservations" -> describeCapacityReservations(request, form);
        case "DescribeReservedInstances" -> describeReservedInstances(request, form);
        case "DescribeSavingsPlans" -> request.okJson(describeSavingsPlans(form.get("Body")));
        case "DescribeSavingsPlanRates" -> request.okJson(describeSavingsPlanRates(form.get("Body")));
        default -> {
          if (passThrough.isPresent()) {
            forward(request, body);
          } else {
            error(request, 400, "InvalidAction", "The action " + action + " is not valid for this web service.");
          }
        }
      }
    } catch (RuntimeException e) {
      error(request, 400, "InvalidParameterValue", String.valueOf(e.getMessage()));
    }
  }

  /** Sends the call on to the pass-through endpoint as it came, and its answer back as it comes. */
  private void forward(Exchange request, Buffer body) {
    if (passThrough.isEmpty()) {
      error(request, 400, "InvalidAction", "not modelled by the fake");
      return;
    }
    HttpServerRequest http = request.http;
    RequestOptions options = new RequestOptions().setMethod(http.method()).setAbsoluteURI(passThrough.get().resolve(http.uri()).toString());
    http.headers().forEach((k, v) -> {
      if (!k.equalsIgnoreCase("host") && !k.equalsIgnoreCase("content-length")) {
        options.addHeader(k, v);
      }
    });
    forwarder.request(options).compose(out -> out.send(body)).compose(answer -> answer.body().map(b -> {
      Map<String, String> headers = new LinkedHashMap<>();
      answer.headers().forEach((k, v) -> {
        if (!k.equalsIgnoreCase("content-length") && !k.equalsIgnoreCase("transfer-encoding") && !k.equalsIgnoreCase("connection")) {
          headers.put(k, v);
        }
      });
      request.relay(answer.statusCode(), headers, b);
      return b;
    })).onFailure(e -> error(request, 503, "Unavailable", "pass-through failed: " + e));
  }

  private static boolean take(AtomicInteger counter) {
    return counter.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
  }

  private void createFleetOrNotFound(Exchange request, Map<String, String> form) {
    for (int c = 1; c == 1 || form.containsKey("LaunchTemplateConfigs." + c + ".LaunchTemplateSpecification.LaunchTemplateName"); c++) {
      String template = form.get("LaunchTemplateConfigs." + c + ".LaunchTemplateSpecification.LaunchTemplateName");
      if (template == null || !templates.containsKey(template)) {
        error(request, 400, "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name " + template
            + ", does not exist.");
        return;
      }
    }
    ok(request, createFleet(request, form));
  }

  /** A CreateFleet answer, kept by client token: the body, the instances it launched and the pools that failed. */
  private record FleetAnswer(String body, List<String> launched, List<String> poolErrors) {
  }

  /** Carries a CreateFleet out (or finds the answer to its client token) and returns the answer. */
  private String createFleet(Exchange call, Map<String, String> form) {
    String token = form.get("ClientToken");
    if (token != null && responsesByToken.containsKey(token)) {
      FleetAnswer earlier = responsesByToken.get(token);
      call.replayed = true;
      call.launched = earlier.launched();
      call.poolErrors = earlier.poolErrors();
      return earlier.body();
    }
    String lifecycle = form.getOrDefault("TargetCapacitySpecification.DefaultTargetCapacityType", "on-demand");
    // Every config's overrides, each remembering its template (a reserved launch has one template per reservation).
    List<Map<String, String>> overrides = new ArrayList<>();
    for (int c = 1; form.containsKey("LaunchTemplateConfigs." + c + ".LaunchTemplateSpecification.LaunchTemplateName"); c++) {
      String name = form.get("LaunchTemplateConfigs." + c + ".LaunchTemplateSpecification.LaunchTemplateName");
      for (Map<String, String> o : indexed(form, "LaunchTemplateConfigs." + c + ".Overrides.")) {
        Map<String, String> withTemplate = new HashMap<>(o);
        withTemplate.put("Template", name);
        overrides.add(withTemplate);
      }
    }
    overrides.sort((a, b) -> Double.compare(Double.parseDouble(a.getOrDefault("Priority", "0")), Double.parseDouble(b.getOrDefault("Priority", "0"))));
    StringBuilder errors = new StringBuilder();
    StringBuilder launched = new StringBuilder();
    List<String> launchedIds = new ArrayList<>();
    List<String> failedPools = new ArrayList<>();
    for (Map<String, String> o : overrides) {
      String type = o.get("InstanceType");
      String zone = o.get("AvailabilityZone");
      String template = o.get("Template");
      String reservation = templateReservation.get(template);
      if (reservation != null) {
        FakeReservation r = reservations.get(reservation);
        if (r == null || !r.type().equals(type) || !r.zone().equals(zone) || r.available().getAndUpdate(n -> n > 0 ? n - 1 : 0) == 0) {
          errors.append("<item>").append(overridesXml(template, type, zone)).append("<lifecycle>on-demand</lifecycle>")
              .append("<errorCode>ReservationCapacityExceeded</errorCode><errorMessage>Insufficient capacity in capacity reservation ")
              .append(reservation).append(".</errorMessage></item>");
          failedPools.add(type + "/" + zone + "/on-demand: ReservationCapacityExceeded");
          continue;
        }
      } else if (blocked(type, zone, lifecycle)) {
        errors.append("<item>").append(overridesXml(template, type, zone)).append("<lifecycle>").append(lifecycle).append("</lifecycle>")
            .append("<errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>We currently do not have sufficient ").append(type)
            .append(" capacity in the Availability Zone you requested (").append(zone).append(").</errorMessage></item>");
        failedPools.add(type + "/" + zone + "/" + lifecycle + ": InsufficientInstanceCapacity");
        continue;
      }
      String id = "i-" + String.format("%017x", ids.incrementAndGet());
      Map<String, String> tags = instanceTags(form);
      launchedIds.add(id);
      instances.put(id, new FakeInstance(id, type, zone, lifecycle, o.get("ImageId"), tags, Instant.now(), new AtomicReference<>("running"),
          reservation));
      if (tags.containsKey("karpenter.sh/nodeclaim")) {
        byClaim.computeIfAbsent(tags.get("karpenter.sh/nodeclaim"), k -> new CopyOnWriteArrayList<>()).add(id);
      }
      launched.append("<item>").append(overridesXml(template, type, zone)).append("<lifecycle>").append(lifecycle)
          .append("</lifecycle><instanceIds><item>").append(id).append("</item></instanceIds><instanceType>").append(type)
          .append("</instanceType></item>");
      break;
    }
    String body = "<CreateFleetResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><fleetId>fleet-" + ids.incrementAndGet()
        + "</fleetId><errorSet>" + errors + "</errorSet><fleetInstanceSet>" + launched + "</fleetInstanceSet></CreateFleetResponse>";
    FleetAnswer answer = new FleetAnswer(body, List.copyOf(launchedIds), List.copyOf(failedPools));
    if (token != null) {
      FleetAnswer first = responsesByToken.putIfAbsent(token, answer);
      if (first != null) {
        answer = first;
        call.replayed = true;
      }
    }
    call.launched = answer.launched();
    call.poolErrors = answer.poolErrors();
    return answer.body();
  }

  private boolean blocked(String type, String zone, String lifecycle) {
    for (String t : List.of(type, "*")) {
      for (String z : List.of(zone, "*")) {
        for (String l : List.of(lifecycle, "*")) {
          if (noCapacity.contains(t + "|" + z + "|" + l)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static String overridesXml(String template, String type, String zone) {
    return "<launchTemplateAndOverrides><launchTemplateSpecification><launchTemplateName>" + template
        + "</launchTemplateName><version>1</version></launchTemplateSpecification><overrides><instanceType>" + type
        + "</instanceType><availabilityZone>" + zone + "</availabilityZone></overrides></launchTemplateAndOverrides>";
  }

  private void describeInstances(Exchange request, Map<String, String> form) {
    List<String> ids = values(form, "InstanceId.");
    List<FakeInstance> found = new ArrayList<>();
    if (!ids.isEmpty()) {
      for (String id : ids) {
        FakeInstance i = instances.get(id);
        if (i == null) {
          error(request, 400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
          return;
        }
        found.add(i);
      }
    } else {
      List<Map<String, String>> filters = indexed(form, "Filter.");
      Optional<Map<String, String>> claims = filters.stream().filter(f -> "tag:karpenter.sh/nodeclaim".equals(f.get("Name"))).findFirst();
      if (claims.isPresent()) {
        for (int v = 1; claims.get().containsKey("Value." + v); v++) {
          byClaim.getOrDefault(claims.get().get("Value." + v), List.of()).forEach(id -> found.add(instances.get(id)));
        }
      } else {
        found.addAll(instances.values());
      }
    }
    for (Map<String, String> filter : indexed(form, "Filter.")) {
      String name = filter.get("Name");
      List<String> accepted = new ArrayList<>();
      for (int v = 1; filter.containsKey("Value." + v); v++) {
        accepted.add(filter.get("Value." + v));
      }
      found.removeIf(i -> !matches(i, name, accepted));
    }
    StringBuilder items = new StringBuilder();
    for (FakeInstance i : found) {
      items.append("<item><reservationId>r-").append(i.id().substring(2)).append("</reservationId><ownerId>123456789012</ownerId><instancesSet><item>")
          .append("<instanceId>").append(i.id()).append("</instanceId><imageId>").append(i.imageId()).append("</imageId>")
          .append("<instanceState><code>").append(code(i.state().get())).append("</code><name>").append(i.state().get()).append("</name></instanceState>")
          .append("<instanceType>").append(i.type()).append("</instanceType><placement><availabilityZone>").append(i.zone())
          .append("</availabilityZone></placement><launchTime>").append(i.launched()).append("</launchTime>")
          .append("spot".equals(i.lifecycle()) ? "<instanceLifecycle>spot</instanceLifecycle>" : "")
          .append(i.reservation() == null ? "" : "<capacityReservationId>" + i.reservation() + "</capacityReservationId>").append("<tagSet>");
      i.tags().forEach((k, v) -> items.append("<item><key>").append(xml(k)).append("</key><value>").append(xml(v)).append("</value></item>"));
      items.append("</tagSet></item></instancesSet></item>");
    }
    ok(request, "<DescribeInstancesResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><reservationSet>" + items
        + "</reservationSet></DescribeInstancesResponse>");
  }

  private static boolean matches(FakeInstance i, String name, List<String> accepted) {
    if (name.startsWith("tag:")) {
      String key = name.substring(4);
      return accepted.contains(i.tags().get(key));
    }
    return switch (name) {
      case "tag-key" -> accepted.stream().anyMatch(i.tags()::containsKey);
      case "instance-state-name" -> accepted.contains(i.state().get());
      default -> true;
    };
  }

  private void terminateInstances(Exchange request, Map<String, String> form) {
    StringBuilder items = new StringBuilder();
    for (String id : values(form, "InstanceId.")) {
      if (!instances.containsKey(id)) {
        error(request, 400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist");
        return;
      }
    }
    for (String id : values(form, "InstanceId.")) {
      String previous = instances.get(id).state().getAndSet("terminated");
      items.append("<item><instanceId>").append(id).append("</instanceId><currentState><code>48</code><name>terminated</name></currentState>")
          .append("<previousState><code>").append(code(previous)).append("</code><name>").append(previous).append("</name></previousState></item>");
    }
    ok(request, "<TerminateInstancesResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><instancesSet>" + items
        + "</instancesSet></TerminateInstancesResponse>");
  }

  private void describeLaunchTemplates(Exchange request, Map<String, String> form) {
    StringBuilder items = new StringBuilder();
    for (String name : values(form, "LaunchTemplateName.")) {
      String id = templates.get(name);
      if (id == null) {
        error(request, 400, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.");
        return;
      }
      items.append("<item><launchTemplateId>").append(id).append("</launchTemplateId><launchTemplateName>").append(xml(name))
          .append("</launchTemplateName></item>");
    }
    ok(request, "<DescribeLaunchTemplatesResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><launchTemplates>" + items
        + "</launchTemplates></DescribeLaunchTemplatesResponse>");
  }

  private String createLaunchTemplate(Map<String, String> form) {
    String name = form.get("LaunchTemplateName");
    String reservation = form.get("LaunchTemplateData.CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId");
    if (reservation != null) {
      templateReservation.put(name, reservation);
    }
    String id = templates.computeIfAbsent(name, n -> "lt-" + String.format("%017x", ids.incrementAndGet()));
    return "<CreateLaunchTemplateResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><launchTemplate><launchTemplateId>" + id
        + "</launchTemplateId><launchTemplateName>" + xml(name) + "</launchTemplateName></launchTemplate></CreateLaunchTemplateResponse>";
  }

  private void describeCapacityReservations(Exchange request, Map<String, String> form) {
    List<String> ids = values(form, "CapacityReservationId.");
    StringBuilder items = new StringBuilder();
    for (FakeReservation r : new TreeMap<>(reservations).values()) {
      if (!ids.isEmpty() && !ids.contains(r.id())) {
        continue;
      }
      boolean match = true;
      for (Map<String, String> filter : indexed(form, "Filter.")) {
        String name = filter.get("Name");
        List<String> accepted = new ArrayList<>();
        for (int v = 1; filter.containsKey("Value." + v); v++) {
          accepted.add(filter.get("Value." + v));
        }
        match &= switch (name) {
          case "state" -> accepted.contains("active");
          case "owner-id" -> accepted.contains("123456789012");
          case "instance-match-criteria" -> accepted.contains(r.matchCriteria());
          case "tag-key" -> accepted.stream().anyMatch(r.tags()::containsKey);
          default -> !name.startsWith("tag:") || accepted.contains(r.tags().get(name.substring(4)));
        };
      }
      if (!match) {
        continue;
      }
      items.append("<item><capacityReservationId>").append(r.id()).append("</capacityReservationId><ownerId>123456789012</ownerId>")
          .append("<instanceType>").append(r.type()).append("</instanceType><instancePlatform>Linux/UNIX</instancePlatform>")
          .append("<availabilityZone>").append(r.zone()).append("</availabilityZone><tenancy>default</tenancy>")
          .append("<totalInstanceCount>").append(r.total()).append("</totalInstanceCount><availableInstanceCount>").append(r.available().get())
          .append("</availableInstanceCount><state>active</state><instanceMatchCriteria>").append(r.matchCriteria())
          .append("</instanceMatchCriteria><reservationType>default</reservationType><tagSet>");
      r.tags().forEach((k, v) -> items.append("<item><key>").append(xml(k)).append("</key><value>").append(xml(v)).append("</value></item>"));
      items.append("</tagSet></item>");
    }
    ok(request, "<DescribeCapacityReservationsResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><capacityReservationSet>" + items
        + "</capacityReservationSet></DescribeCapacityReservationsResponse>");
  }

  private void describeReservedInstances(Exchange request, Map<String, String> form) {
    StringBuilder items = new StringBuilder();
    for (FakeReservedInstance ri : new TreeMap<>(reservedInstances).values()) {
      boolean match = true;
      for (Map<String, String> filter : indexed(form, "Filter.")) {
        List<String> accepted = new ArrayList<>();
        for (int v = 1; filter.containsKey("Value." + v); v++) {
          accepted.add(filter.get("Value." + v));
        }
        match &= switch (filter.get("Name")) {
          case "state" -> accepted.contains(ri.state());
          case "instance-type" -> accepted.contains(ri.type());
          case "product-description" -> accepted.contains(ri.productDescription());
          case "scope" -> accepted.contains(ri.zone() == null ? "Region" : "Availability Zone");
          default -> true;
        };
      }
      if (!match) {
        continue;
      }
      items.append("<item><reservedInstancesId>").append(ri.id()).append("</reservedInstancesId><instanceType>").append(ri.type())
          .append("</instanceType>").append(ri.zone() == null ? "" : "<availabilityZone>" + ri.zone() + "</availabilityZone>")
          .append("<start>2026-01-01T00:00:00.000Z</start><end>2027-01-01T00:00:00.000Z</end><duration>31536000</duration>")
          .append("<fixedPrice>0.0</fixedPrice><usagePrice>0.0</usagePrice><instanceCount>").append(ri.count()).append("</instanceCount>")
          .append("<productDescription>").append(xml(ri.productDescription())).append("</productDescription><state>").append(ri.state())
          .append("</state><instanceTenancy>").append(ri.tenancy()).append("</instanceTenancy><currencyCode>USD</currencyCode>")
          .append("<offeringType>No Upfront</offeringType><offeringClass>standard</offeringClass><scope>")
          .append(ri.zone() == null ? "Region" : "Availability Zone").append("</scope></item>");
    }
    ok(request, "<DescribeReservedInstancesResponse xmlns=\"" + NS + "\"><requestId>" + requestId() + "</requestId><reservedInstancesSet>" + items
        + "</reservedInstancesSet></DescribeReservedInstancesResponse>");
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Plans in the states asked for, one page of two at a time (so callers must follow nextToken). */
  private String describeSavingsPlans(String body) {
    try {
      JsonNode in = JSON.readTree(body == null || body.isBlank() ? "{}" : body);
      List<String> states = new ArrayList<>();
      in.path("states").forEach(n -> states.add(n.asText()));
      List<FakeSavingsPlan> plans = new TreeMap<>(savingsPlans).values().stream().filter(p -> states.isEmpty() || states.contains(p.state())).toList();
      int from = in.hasNonNull("nextToken") ? Integer.parseInt(in.get("nextToken").asText()) : 0;
      ObjectNode out = JSON.createObjectNode();
      ArrayNode list = out.putArray("savingsPlans");
      for (FakeSavingsPlan p : plans.subList(Math.min(from, plans.size()), Math.min(from + 2, plans.size()))) {
        ObjectNode n = list.addObject();
        n.put("savingsPlanId", p.id()).put("savingsPlanArn", "arn:aws:savingsplans::123456789012:savingsplan/" + p.id())
            .put("savingsPlanType", p.type()).put("state", p.state()).put("commitment", p.commitment()).put("currency", "USD")
            .put("paymentOption", "No Upfront").put("termDurationInSeconds", 31536000).put("start", "2026-01-01T00:00:00.000Z");
        if (p.family() != null) {
          n.put("ec2InstanceFamily", p.family());
        }
        if (p.region() != null) {
          n.put("region", p.region());
        }
        n.putArray("productTypes").add("EC2");
      }
      if (from + 2 < plans.size()) {
        out.put("nextToken", Integer.toString(from + 2));
      }
      return JSON.writeValueAsString(out);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** A plan's rates the filters select, three to a page. */
  private String describeSavingsPlanRates(String body) {
    try {
      JsonNode in = JSON.readTree(body);
      FakeSavingsPlan plan = savingsPlans.get(in.path("savingsPlanId").asText());
      if (plan == null) {
        throw new IllegalArgumentException("no Savings Plan " + in.path("savingsPlanId").asText());
      }
      Map<String, List<String>> filters = new HashMap<>();
      in.path("filters").forEach(f -> {
        List<String> values = new ArrayList<>();
        f.path("values").forEach(v -> values.add(v.asText()));
        filters.put(f.path("name").asText(), values);
      });
      List<FakeRate> rates = plan.rates().stream().filter(r -> filters.getOrDefault("region", List.of(r.region())).contains(r.region())
          && filters.getOrDefault("productDescription", List.of(r.productDescription())).contains(r.productDescription())
          && filters.getOrDefault("tenancy", List.of(r.tenancy())).contains(r.tenancy())
          && filters.getOrDefault("instanceType", List.of(r.instanceType())).contains(r.instanceType())
          && filters.getOrDefault("productType", List.of("EC2")).contains("EC2")).toList();
      int from = in.hasNonNull("nextToken") ? Integer.parseInt(in.get("nextToken").asText()) : 0;
      ObjectNode out = JSON.createObjectNode();
      out.put("savingsPlanId", plan.id());
      ArrayNode list = out.putArray("searchResults");
      for (FakeRate r : rates.subList(Math.min(from, rates.size()), Math.min(from + 3, rates.size()))) {
        ObjectNode n = list.addObject();
        n.put("rate", r.rate()).put("currency", "USD").put("unit", "Hrs").put("productType", "EC2").put("serviceCode", "AmazonEC2")
            .put("usageType", r.usageType()).put("operation", "Windows".equals(r.productDescription()) ? "RunInstances:0002" : "RunInstances");
        ArrayNode props = n.putArray("properties");
        props.addObject().put("name", "region").put("value", r.region());
        props.addObject().put("name", "instanceType").put("value", r.instanceType());
        props.addObject().put("name", "instanceFamily").put("value", r.instanceType().substring(0, r.instanceType().indexOf('.')));
        props.addObject().put("name", "productDescription").put("value", r.productDescription());
        props.addObject().put("name", "tenancy").put("value", r.tenancy());
      }
      if (from + 3 < rates.size()) {
        out.put("nextToken", Integer.toString(from + 3));
      }
      return JSON.writeValueAsString(out);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static int code(String state) {
    return switch (state) {
      case "pending" -> 0;
      case "running" -> 16;
      case "shutting-down" -> 32;
      case "terminated" -> 48;
      case "stopping" -> 64;
      default -> 80;
    };
  }

  private static void ok(Exchange request, String xml) {
    request.ok(xml);
  }

  private static void error(Exchange request, int status, String code, String message) {
    request.error(status, code, message, Fault.NONE);
  }

  private static String requestId() {
    return UUID.randomUUID().toString();
  }

  private static String xml(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  private static Map<String, String> form(String body) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      out.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
    }
    return out;
  }

  /** {@code Prefix.1.X=..., Prefix.2.X=...} as one map per index (keys without the prefix and index), in one pass. */
  /** URL-decodes only what needs it (most of a CreateFleet's thousand parameters are plain). */
  private static String decode(String s) {
    return s.indexOf('%') < 0 && s.indexOf('+') < 0 ? s : URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static List<Map<String, String>> indexed(Map<String, String> form, String prefix) {
    TreeMap<Integer, Map<String, String>> byIndex = new TreeMap<>();
    form.forEach((k, v) -> {
      if (!k.startsWith(prefix)) {
        return;
      }
      int dot = k.indexOf('.', prefix.length());
      if (dot < 0) {
        return;
      }
      try {
        int n = Integer.parseInt(k.substring(prefix.length(), dot));
        byIndex.computeIfAbsent(n, x -> new LinkedHashMap<>()).put(k.substring(dot + 1), v);
      } catch (NumberFormatException notIndexed) {
        // another member sharing the prefix
      }
    });
    return new ArrayList<>(byIndex.values());
  }

  private static List<String> values(Map<String, String> form, String prefix) {
    List<String> out = new ArrayList<>();
    for (int n = 1; form.containsKey(prefix + n); n++) {
      out.add(form.get(prefix + n));
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
