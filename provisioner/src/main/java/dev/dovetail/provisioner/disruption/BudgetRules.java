package dev.dovetail.provisioner.disruption;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.dovetail.api.karpenter.v1.Budget;
import dev.dovetail.api.karpenter.v1.Disruption;
import dev.dovetail.api.karpenter.v1.Durations;
import dev.dovetail.api.karpenter.v1.NodePool;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NodePool's disruption budgets ({@code spec.disruption.budgets}) evaluated at one instant, as Karpenter
 * evaluates them: for a reason, the minimum over the budgets that name it (or name no reason) and are
 * active, each budget's {@code nodes} scaled against the pool's node count with percentages rounded up;
 * a schedule (cron, UTC) makes a budget active for {@code duration} after each hit; a budget that cannot
 * be read allows nothing (fail closed). Pure: the caller supplies node counts and the time.
 */
public final class BudgetRules {
  /** What a pool without budgets gets (the CRD's default). */
  public static final List<Budget> DEFAULT = List.of(Budget.nodes("10%"));

  private static final CronParser CRON = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  /** Karpenter's schedule macros as the five-field expressions they stand for. */
  private static final Map<String, String> MACROS = Map.of("@annually", "0 0 1 1 *", "@yearly", "0 0 1 1 *", "@monthly", "0 0 1 * *",
      "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
  private static final Pattern PERCENT = Pattern.compile("^(100|[0-9]{1,2})%$");
  private static final Pattern COUNT = Pattern.compile("^[0-9]+$");

  private BudgetRules() {
  }

  /** The pool's budgets, or the default when it sets none. */
  public static List<Budget> of(NodePool pool) {
    Disruption d = pool.getSpec() == null ? null : pool.getSpec().disruption();
    return d == null || d.budgets() == null ? DEFAULT : d.budgets();
  }

  /**
   * How many of a pool's {@code nodes} may be disrupting at once for {@code reason} (before subtracting
   * those already disrupting); {@link Integer#MAX_VALUE} when no active budget names it. Only the graceful
   * reasons (Empty, Drifted, Underutilized) have budgets.
   */
  public static int allowed(List<Budget> budgets, Reason reason, int nodes, Instant now) {
    Optional<Budget.Reason> named = budgetReason(reason);
    if (named.isEmpty()) {
      return Integer.MAX_VALUE;
    }
    int min = Integer.MAX_VALUE;
    for (Budget b : budgets) {
      if (b.reasons() != null && !b.reasons().isEmpty() && !b.reasons().contains(named.get())) {
        continue;
      }
      Optional<Integer> value = value(b, nodes, now);
      if (value.isEmpty()) {
        continue;  // inactive
      }
      min = Math.min(min, value.get());
    }
    return min;
  }

  /** A budget's node count now: empty while its schedule is not active; 0 when it cannot be read. */
  static Optional<Integer> value(Budget budget, int nodes, Instant now) {
    try {
      if (!active(budget, now)) {
        return Optional.empty();
      }
      return Optional.of(scaled(budget.nodes(), nodes));
    } catch (IllegalArgumentException unreadable) {
      return Optional.of(0);
    }
  }

  /**
   * Whether the budget applies now: always without a schedule; with one, when a hit of the schedule (UTC)
   * lies within the last {@code duration}, this instant included.
   *
   * @throws IllegalArgumentException when the schedule or duration cannot be read, or only one is set
   */
  static boolean active(Budget budget, Instant now) {
    if (budget.schedule() == null && budget.duration() == null) {
      return true;
    }
    if (budget.schedule() == null || budget.duration() == null) {
      throw new IllegalArgumentException("schedule and duration go together");
    }
    String expression = MACROS.getOrDefault(budget.schedule().trim().toLowerCase(Locale.ROOT), budget.schedule().trim());
    ExecutionTime schedule = ExecutionTime.forCron(CRON.parse(expression));
    Duration duration = duration(budget.duration());
    ZonedDateTime from = now.minus(duration).atZone(ZoneOffset.UTC);
    // The first hit strictly after now - duration; a hit exactly at now - duration has already run out.
    Optional<ZonedDateTime> next = schedule.nextExecution(from);
    return next.isPresent() && !next.get().toInstant().isAfter(now);
  }

  /** "10%" of {@code nodes}, rounded up; "3" as is. */
  static int scaled(String value, int nodes) {
    if (value == null) {
      throw new IllegalArgumentException("nodes is required");
    }
    Matcher percent = PERCENT.matcher(value);
    if (percent.matches()) {
      long p = Long.parseLong(percent.group(1));
      return (int) ((p * nodes + 99) / 100);
    }
    if (COUNT.matcher(value).matches()) {
      return (int) Math.min(Integer.MAX_VALUE, Long.parseLong(value));
    }
    throw new IllegalArgumentException("nodes must be a whole number or a percentage: '" + value + "'");
  }

  /** A budget duration: hours and minutes ({@code 1h30m}, {@code 10m}), a trailing {@code 0s} tolerated. */
  static Duration duration(String text) {
    if (text == null || !text.matches(Durations.BUDGET_DURATION_PATTERN)) {
      throw new IllegalArgumentException("a budget duration is hours and minutes, like 10m or 1h30m: '" + text + "'");
    }
    return Durations.parse(text).orElseThrow();
  }

  private static Optional<Budget.Reason> budgetReason(Reason reason) {
    return switch (reason) {
      case EMPTY -> Optional.of(Budget.Reason.Empty);
      case DRIFTED -> Optional.of(Budget.Reason.Drifted);
      case UNDERUTILIZED -> Optional.of(Budget.Reason.Underutilized);
      case EXPIRED, INTERRUPTED, UNHEALTHY, REVERSE_FALLBACK -> Optional.empty();
    };
  }
}
