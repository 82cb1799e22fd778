package dev.dovetail.api.disruption;

import dev.dovetail.api.config.v1alpha1.ReplacementWindow;
import dev.dovetail.api.config.v1alpha1.WindowDetails;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Harness Cluster Orchestrator's replacement windows: when a disruptive operation (pod eviction for
 * bin-packing, consolidation, reverse fallback) may start. {@code Always} (the default, and any operation
 * the window's {@code appliesTo} turns off), {@code Never}, or {@code Custom}: on the listed days, all day
 * or from {@code startTime} to {@code endTime} in the window's time zone; an end before the start means
 * the window crosses midnight and belongs to its start day. Pure: the same window and instant always give
 * the same answer.
 */
public final class ReplacementWindows {
  /** The operations a window can govern. */
  public enum Operation {
    CONSOLIDATION,
    POD_EVICTION,
    REVERSE_FALLBACK
  }

  /** Days are looked at this far ahead for the next opening (a week covers every listed day). */
  private static final int HORIZON_DAYS = 8;

  private ReplacementWindows() {
  }

  /** Whether {@code operation} may start at {@code now}; a missing window is {@code Always}. */
  public static boolean open(ReplacementWindow window, Operation operation, Instant now) {
    if (window == null || !governs(window, operation)) {
      return true;
    }
    return switch (window.type()) {
      case Always -> true;
      case Never -> false;
      case Custom -> inside(window.windowDetails(), now);
    };
  }

  /** When {@code operation} may start next: {@code now} while open, empty under {@code Never}. */
  public static Optional<Instant> nextOpening(ReplacementWindow window, Operation operation, Instant now) {
    if (open(window, operation, now)) {
      return Optional.of(now);
    }
    if (window.type() != ReplacementWindow.Type.Custom) {
      return Optional.empty();
    }
    WindowDetails details = window.windowDetails();
    ZoneId zone = zone(details);
    Set<DayOfWeek> days = days(details);
    LocalDate today = now.atZone(zone).toLocalDate();
    LocalTime start = Boolean.TRUE.equals(details.allDay()) ? LocalTime.MIDNIGHT : time(details.startTime());
    for (int i = 0; i <= HORIZON_DAYS; i++) {
      LocalDate day = today.plusDays(i);
      if (days.contains(day.getDayOfWeek())) {
        Instant opening = ZonedDateTime.of(day, start, zone).toInstant();
        if (opening.isAfter(now)) {
          return Optional.of(opening);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Why the window keeps an action that needs all of {@code operations} from starting now, naming the
   * first closed operation and when it opens next; empty while they are all open.
   */
  public static Optional<String> closed(ReplacementWindow window, Set<Operation> operations, Instant now) {
    for (Operation op : Operation.values()) {  // in a fixed order: the message names the first closed
      if (operations.contains(op) && !open(window, op, now)) {
        String next = nextOpening(window, op, now).map(t -> "; it opens next at " + t).orElse("; it never opens");
        return Optional.of("Outside the replacement window (" + window.type().name() + ", "
            + op.name().toLowerCase(Locale.ROOT).replace('_', ' ') + ")" + next);
      }
    }
    return Optional.empty();
  }

  /** Whether the window's {@code appliesTo} covers the operation (all of them when it says nothing). */
  public static boolean governs(ReplacementWindow window, Operation operation) {
    ReplacementWindow.AppliesTo to = window.appliesTo();
    if (to == null) {
      return true;
    }
    Boolean applies = switch (operation) {
      case POD_EVICTION -> to.harnessPodEviction();
      case CONSOLIDATION -> to.consolidation();
      case REVERSE_FALLBACK -> to.reverseFallback();
    };
    return applies == null || applies;
  }

  private static boolean inside(WindowDetails details, Instant now) {
    if (details == null) {
      return false;
    }
    ZonedDateTime local = now.atZone(zone(details));
    Set<DayOfWeek> days = days(details);
    DayOfWeek today = local.getDayOfWeek();
    if (Boolean.TRUE.equals(details.allDay())) {
      return days.contains(today);
    }
    LocalTime t = local.toLocalTime();
    LocalTime start = time(details.startTime());
    LocalTime end = time(details.endTime());
    if (start.isBefore(end)) {
      return days.contains(today) && !t.isBefore(start) && t.isBefore(end);
    }
    // Crosses midnight (or runs a full day when end equals start): it belongs to the day it starts on.
    return days.contains(today) && !t.isBefore(start) || days.contains(today.minus(1)) && t.isBefore(end);
  }

  private static ZoneId zone(WindowDetails details) {
    return ZoneId.of(details.timeZone() == null || details.timeZone().isBlank() ? "UTC" : details.timeZone());
  }

  private static LocalTime time(WindowDetails.TimeOfDay t) {
    return t == null ? LocalTime.MIDNIGHT : LocalTime.of(t.hour(), t.minute());
  }

  /** The listed days: 0 (Sunday) to 6 (Saturday), or SUN ... SAT. */
  static Set<DayOfWeek> days(WindowDetails details) {
    Set<DayOfWeek> out = EnumSet.noneOf(DayOfWeek.class);
    List<IntOrString> days = details.days() == null ? List.of() : details.days();
    for (IntOrString d : days) {
      if (d.getIntVal() != null) {
        out.add(d.getIntVal() == 0 ? DayOfWeek.SUNDAY : DayOfWeek.of(d.getIntVal()));
      } else if (d.getStrVal() != null) {
        out.add(switch (d.getStrVal().trim().toUpperCase(Locale.ROOT)) {
          case "SUN" -> DayOfWeek.SUNDAY;
          case "MON" -> DayOfWeek.MONDAY;
          case "TUE" -> DayOfWeek.TUESDAY;
          case "WED" -> DayOfWeek.WEDNESDAY;
          case "THU" -> DayOfWeek.THURSDAY;
          case "FRI" -> DayOfWeek.FRIDAY;
          case "SAT" -> DayOfWeek.SATURDAY;
          default -> throw new IllegalArgumentException("days must be 0 (Sunday) to 6 (Saturday) or SUN ... SAT, not " + d.getStrVal());
        });
      }
    }
    return out;
  }
}
