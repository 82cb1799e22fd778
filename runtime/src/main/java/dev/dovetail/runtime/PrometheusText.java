package dev.dovetail.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Reads the samples of a Prometheus text exposition ({@code /metrics}): {@code name{label="value",...} value
 * [timestamp]} lines; comments ({@code # HELP}, {@code # TYPE}) and blank lines are skipped. For tests and the
 * reports that read the components' own endpoints; not a full OpenMetrics parser (no exemplars).
 */
public final class PrometheusText {
  private PrometheusText() {
  }

  /** One sample. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public Sample {
      labels = Map.copyOf(labels);
    }

    public String label(String key) {
      return labels.getOrDefault(key, "");
    }
  }

  public static List<Sample> parse(String text) {
    List<Sample> samples = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n")) {
      lineNumber++;
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      try {
        samples.add(sample(l));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("line " + lineNumber + " is not a sample: " + l, e);
      }
    }
    return samples;
  }

  /** The samples of the family {@code name} whose labels include every entry of {@code labels}. */
  public static List<Sample> select(List<Sample> samples, String name, Map<String, String> labels) {
    Predicate<Sample> matches = s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet());
    return samples.stream().filter(matches).toList();
  }

  /** The sum of {@link #select}'s values: 0 when none match. */
  public static double sum(List<Sample> samples, String name, Map<String, String> labels) {
    return select(samples, name, labels).stream().mapToDouble(Sample::value).sum();
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    Map<String, String> labels = new LinkedHashMap<>();
    String name;
    int rest;
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.substring(0, brace);
      rest = labels(line, brace + 1, labels);
    } else {
      name = line.substring(0, space);
      rest = space;
    }
    String[] tail = line.substring(rest).strip().split("\\s+");
    return new Sample(name, labels, value(tail[0]));
  }

  /** Reads {@code key="value"} pairs from {@code at} to the closing brace; returns the index after it. */
  private static int labels(String line, int at, Map<String, String> labels) {
    int i = at;
    while (true) {
      while (line.charAt(i) == ',' || line.charAt(i) == ' ') {
        i++;
      }
      if (line.charAt(i) == '}') {
        return i + 1;
      }
      int eq = line.indexOf('=', i);
      String key = line.substring(i, eq).strip();
      if (line.charAt(eq + 1) != '"') {
        throw new IllegalArgumentException("label " + key + " has no quoted value");
      }
      StringBuilder value = new StringBuilder();
      i = eq + 2;
      for (char c = line.charAt(i); c != '"'; c = line.charAt(i)) {
        if (c == '\\') {
          char next = line.charAt(++i);
          value.append(next == 'n' ? '\n' : next);
        } else {
          value.append(c);
        }
        i++;
      }
      labels.put(key, value.toString());
      i++;
    }
  }

  private static double value(String text) {
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(text);
    };
  }
}
