package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.dovetail.api.schema.ListType;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.List;

/** Days and hours of a custom replacement window. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.allDay || (has(self.startTime) && has(self.endTime))",
    message = "windowDetails needs startTime and endTime unless allDay is true")
public record WindowDetails(
    @JsonPropertyDescription("Days the window opens: 0 (Sunday) to 6 (Saturday), or SUN, MON, TUE, WED, THU, FRI, SAT.")
    @Required @Size(min = 1, max = 7) @ListType(ListType.Kind.ATOMIC)
    @ValidationRule(value = "self.all(d, type(d) == int ? d >= 0 && d <= 6 : d in ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'])",
        message = "days must be 0 (Sunday) to 6 (Saturday) or SUN, MON, TUE, WED, THU, FRI, SAT")
    List<IntOrString> days,
    @JsonPropertyDescription("The window covers the whole of each listed day.")
    @Default("false")
    Boolean allDay,
    @JsonPropertyDescription("When the window opens on each listed day.")
    TimeOfDay startTime,
    @JsonPropertyDescription("When the window closes; earlier than startTime means the window crosses midnight and belongs to the start day.")
    TimeOfDay endTime,
    @JsonPropertyDescription("IANA time zone of the window, such as Europe/Berlin or Asia/Calcutta.")
    @Default("UTC")
    String timeZone) {

  public WindowDetails {
    days = days == null ? null : List.copyOf(days);
  }

  /** A wall-clock time. */
  public record TimeOfDay(
      @JsonPropertyDescription("Hour, 0-23.") @Required @Min(0) @Max(23) Integer hour,
      @JsonPropertyDescription("Minute, 0-59.") @Required @Min(0) @Max(59) Integer minute) {
  }
}
