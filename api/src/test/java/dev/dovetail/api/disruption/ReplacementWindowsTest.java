package dev.dovetail.api.disruption;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.WindowDetails;
import dev.dovetail.api.disruption.ReplacementWindows.Operation;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** When operations may start under Always, Never and Custom windows, and when a closed one opens next. */
class ReplacementWindowsTest {
  /** Saturdays and Sundays, all day, in Berlin; reverse fallback not governed. */
  private static final ReplacementWindow WEEKEND = new ReplacementWindow("Custom", new ReplacementWindow.AppliesTo(true, true, false),
      new WindowDetails(List.of(new IntOrString("SAT"), new IntOrString("SUN")), true, null, null, "Europe/Berlin"));
  /** Monday to Friday nights, 22:00 to 06:00 the next morning, in Kolkata (days as numbers). */
  private static final ReplacementWindow NIGHTS = new ReplacementWindow("custom", null,
      new WindowDetails(List.of(new IntOrString(1), new IntOrString(2), new IntOrString(3), new IntOrString(4), new IntOrString(5)), false,
          new WindowDetails.TimeOfDay(22, 0), new WindowDetails.TimeOfDay(6, 0), "Asia/Kolkata"));

  private static Instant at(String utc) {
    return Instant.parse(utc);
  }

  @Test
  void noWindowAndAlwaysAreOpenNeverIsClosedForGood() {
    assertThat(ReplacementWindows.open(null, Operation.CONSOLIDATION, at("2026-12-07T12:00:00Z"))).isTrue();
    ReplacementWindow never = new ReplacementWindow("Never", null, null);
    assertThat(ReplacementWindows.open(new ReplacementWindow("Always", null, null), Operation.POD_EVICTION, at("2026-12-07T12:00:00Z"))).isTrue();
    assertThat(ReplacementWindows.open(never, Operation.CONSOLIDATION, at("2026-12-07T12:00:00Z"))).isFalse();
    assertThat(ReplacementWindows.nextOpening(never, Operation.CONSOLIDATION, at("2026-12-07T12:00:00Z"))).isEmpty();
  }

  @Test
  void aWeekendWindowFollowsTheDayInItsOwnTimeZone() {
    // Friday 23:30 UTC is Saturday 00:30 in Berlin (CET, UTC+1).
    assertThat(ReplacementWindows.open(WEEKEND, Operation.CONSOLIDATION, at("2026-12-11T22:30:00Z"))).isFalse();
    assertThat(ReplacementWindows.open(WEEKEND, Operation.CONSOLIDATION, at("2026-12-11T23:30:00Z"))).isTrue();
    assertThat(ReplacementWindows.open(WEEKEND, Operation.CONSOLIDATION, at("2026-12-13T22:59:00Z"))).isTrue();
    assertThat(ReplacementWindows.open(WEEKEND, Operation.CONSOLIDATION, at("2026-12-13T23:00:00Z"))).as("Monday in Berlin").isFalse();
    assertThat(ReplacementWindows.nextOpening(WEEKEND, Operation.CONSOLIDATION, at("2026-12-09T10:00:00Z")))
        .contains(at("2026-12-11T23:00:00Z"));
  }

  @Test
  void anOperationTheWindowDoesNotApplyToMayStartAnyTime() {
    assertThat(ReplacementWindows.open(WEEKEND, Operation.REVERSE_FALLBACK, at("2026-12-09T10:00:00Z"))).isTrue();
    assertThat(ReplacementWindows.open(WEEKEND, Operation.POD_EVICTION, at("2026-12-09T10:00:00Z"))).isFalse();
  }

  @Test
  void whyAClosedWindowHoldsAnActionBackNamesTheFirstClosedOperationAndTheNextOpening() {
    Instant wednesday = at("2026-12-09T10:00:00Z");
    assertThat(ReplacementWindows.closed(WEEKEND, Set.of(Operation.POD_EVICTION, Operation.CONSOLIDATION), wednesday))
        .contains("Outside the replacement window (Custom, consolidation); it opens next at 2026-12-11T23:00:00Z");
    assertThat(ReplacementWindows.closed(WEEKEND, Set.of(Operation.REVERSE_FALLBACK), wednesday)).as("not governed").isEmpty();
    assertThat(ReplacementWindows.closed(new ReplacementWindow("Never", null, null), Set.of(Operation.POD_EVICTION), wednesday))
        .contains("Outside the replacement window (Never, pod eviction); it never opens");
    assertThat(ReplacementWindows.closed(WEEKEND, Set.of(Operation.CONSOLIDATION), at("2026-12-12T10:00:00Z"))).as("Saturday").isEmpty();
  }

  @Test
  void aNightWindowCrossesMidnightAndBelongsToItsStartDay() {
    // Kolkata is UTC+5:30: Monday 22:00 there is 16:30 UTC.
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-07T16:29:00Z"))).isFalse();
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-07T16:30:00Z"))).isTrue();
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-08T00:29:00Z"))).as("Tuesday 05:59").isTrue();
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-08T00:30:00Z"))).as("Tuesday 06:00").isFalse();
    // Friday's night runs into Saturday morning; Saturday's and Sunday's nights are not listed.
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-12T00:00:00Z"))).as("Saturday 05:30").isTrue();
    assertThat(ReplacementWindows.open(NIGHTS, Operation.CONSOLIDATION, at("2026-12-12T17:00:00Z"))).as("Saturday 22:30").isFalse();
    assertThat(ReplacementWindows.nextOpening(NIGHTS, Operation.CONSOLIDATION, at("2026-12-12T17:00:00Z")))
        .as("Monday 22:00").contains(at("2026-12-14T16:30:00Z"));
  }

  @Test
  void theNextOpeningOfAnOpenWindowIsNow() {
    Instant now = at("2026-12-12T10:00:00Z");
    assertThat(ReplacementWindows.nextOpening(WEEKEND, Operation.CONSOLIDATION, now)).contains(now);
  }

  /** For any instant: the window is closed from then until its next opening (sampled every ten minutes), and open at it. */
  @Property(tries = 300)
  void theNextOpeningIsTheFirstOpenInstant(@ForAll @LongRange(min = 1_767_225_600L, max = 1_830_297_600L) long epochSecond) {
    Instant now = Instant.ofEpochSecond(epochSecond);
    for (ReplacementWindow window : List.of(WEEKEND, NIGHTS)) {
      Optional<Instant> next = ReplacementWindows.nextOpening(window, Operation.CONSOLIDATION, now);
      assertThat(next).as("a Custom window with days always opens again").isPresent();
      assertThat(ReplacementWindows.open(window, Operation.CONSOLIDATION, next.get())).isTrue();
      for (Instant t = now; t.isBefore(next.get()); t = t.plus(Duration.ofMinutes(10))) {
        assertThat(ReplacementWindows.open(window, Operation.CONSOLIDATION, t)).as("closed at %s before %s", t, next.get()).isFalse();
      }
    }
  }
}
