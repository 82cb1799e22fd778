package dev.dovetail.provisioner.disruption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dovetail.api.karpenter.v1.Budget;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Karpenter's budget rules (karpenter-compat.md §5.7), on fixed instants. */
class BudgetRulesTest {
  private static final Instant MONDAY_0830 = Instant.parse("2026-12-07T08:30:00Z");

  private static Budget budget(String nodes, List<Budget.Reason> reasons, String schedule, String duration) {
    return new Budget(reasons, nodes, schedule, duration);
  }

  @Test
  void percentagesAreOfThePoolsNodesRoundedUp() {
    assertThat(BudgetRules.scaled("10%", 10)).isEqualTo(1);
    assertThat(BudgetRules.scaled("5%", 10)).as("0.5 rounds up").isEqualTo(1);
    assertThat(BudgetRules.scaled("10%", 11)).as("1.1 rounds up").isEqualTo(2);
    assertThat(BudgetRules.scaled("10%", 0)).isZero();
    assertThat(BudgetRules.scaled("100%", 7)).isEqualTo(7);
    assertThat(BudgetRules.scaled("0%", 50)).isZero();
    assertThat(BudgetRules.scaled("3", 100)).isEqualTo(3);
    assertThat(BudgetRules.scaled("0", 100)).isZero();
    assertThatThrownBy(() -> BudgetRules.scaled("101%", 10)).hasMessageContaining("percentage");
    assertThatThrownBy(() -> BudgetRules.scaled("-1", 10)).hasMessageContaining("whole number");
  }

  @Test
  void theMostRestrictiveBudgetThatNamesTheReasonWins() {
    List<Budget> budgets = List.of(budget("20%", null, null, null), budget("1", List.of(Budget.Reason.Drifted), null, null),
        budget("0", List.of(Budget.Reason.Underutilized), null, null));
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 20, MONDAY_0830)).as("only the 20% budget names Empty").isEqualTo(4);
    assertThat(BudgetRules.allowed(budgets, Reason.DRIFTED, 20, MONDAY_0830)).isEqualTo(1);
    assertThat(BudgetRules.allowed(budgets, Reason.UNDERUTILIZED, 20, MONDAY_0830)).isZero();
  }

  @Test
  void forcefulReasonsHaveNoBudget() {
    List<Budget> none = List.of(budget("0", null, null, null));
    assertThat(BudgetRules.allowed(none, Reason.EXPIRED, 10, MONDAY_0830)).isEqualTo(Integer.MAX_VALUE);
    assertThat(BudgetRules.allowed(none, Reason.INTERRUPTED, 10, MONDAY_0830)).isEqualTo(Integer.MAX_VALUE);
    assertThat(BudgetRules.allowed(none, Reason.EMPTY, 10, MONDAY_0830)).isZero();
  }

  @Test
  void aScheduledBudgetAppliesForItsDurationAfterEachHitInUtc() {
    // No disruption on weekdays from 08:00 for 10 hours (UTC), 10% otherwise.
    List<Budget> budgets = List.of(budget("10%", null, null, null), budget("0", null, "0 8 * * mon-fri", "10h"));
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, MONDAY_0830)).isZero();
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, Instant.parse("2026-12-07T07:59:00Z"))).as("before the window").isEqualTo(3);
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, Instant.parse("2026-12-07T08:00:00Z"))).as("at the hit").isZero();
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, Instant.parse("2026-12-07T17:59:59Z"))).isZero();
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, Instant.parse("2026-12-07T18:00:00Z"))).as("the window has run out").isEqualTo(3);
    assertThat(BudgetRules.allowed(budgets, Reason.EMPTY, 30, Instant.parse("2026-12-06T08:30:00Z"))).as("a Sunday").isEqualTo(3);
  }

  @Test
  void macrosStandForTheirSchedules() {
    Budget daily = budget("0", null, "@daily", "1h");
    assertThat(BudgetRules.active(daily, Instant.parse("2026-12-07T00:30:00Z"))).isTrue();
    assertThat(BudgetRules.active(daily, Instant.parse("2026-12-07T01:30:00Z"))).isFalse();
    Budget hourly = budget("0", null, "@hourly", "10m");
    assertThat(BudgetRules.active(hourly, Instant.parse("2026-12-07T13:05:00Z"))).isTrue();
    assertThat(BudgetRules.active(hourly, Instant.parse("2026-12-07T13:15:00Z"))).isFalse();
    Budget yearly = budget("0", null, "@yearly", "48h");
    assertThat(BudgetRules.active(yearly, Instant.parse("2027-01-02T12:00:00Z"))).isTrue();
    assertThat(BudgetRules.active(yearly, Instant.parse("2026-12-31T12:00:00Z"))).isFalse();
  }

  @Test
  void anUnreadableBudgetAllowsNothing() {
    List<Budget> badCron = List.of(budget("10%", null, null, null), budget("5", null, "every day at 8", "1h"));
    assertThat(BudgetRules.allowed(badCron, Reason.EMPTY, 100, MONDAY_0830)).isZero();
    List<Budget> badNodes = List.of(budget("lots", null, null, null));
    assertThat(BudgetRules.allowed(badNodes, Reason.DRIFTED, 100, MONDAY_0830)).isZero();
    List<Budget> scheduleOnly = List.of(budget("5", null, "@daily", null));
    assertThat(BudgetRules.allowed(scheduleOnly, Reason.DRIFTED, 100, MONDAY_0830)).isZero();
  }

  @Test
  void budgetDurationsAreHoursAndMinutes() {
    assertThat(BudgetRules.duration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(BudgetRules.duration("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(BudgetRules.duration("2h0s")).isEqualTo(Duration.ofHours(2));
    assertThatThrownBy(() -> BudgetRules.duration("90s")).hasMessageContaining("hours and minutes");
    assertThatThrownBy(() -> BudgetRules.duration("")).hasMessageContaining("hours and minutes");
  }

  @Test
  void withoutBudgetsAPoolGetsTenPercent() {
    assertThat(BudgetRules.allowed(BudgetRules.DEFAULT, Reason.UNDERUTILIZED, 25, MONDAY_0830)).isEqualTo(3);
  }
}
