package dev.dovetail.api.config.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.Locale;

/** When disruptive operations may start. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.replacementWindowType.lowerAscii() != 'custom' || has(self.windowDetails)",
    message = "replacementWindow.windowDetails is required when replacementWindowType is Custom")
public record ReplacementWindow(
    @JsonPropertyDescription("Always: any time. Never: no automatic maintenance. Custom: only inside windowDetails. Case-insensitive.")
    @Default("Always")
    @ValidationRule(value = "self.lowerAscii() in ['custom', 'always', 'never']", message = "replacementWindowType must be Custom, Always or Never")
    String replacementWindowType,
    @JsonPropertyDescription("Operations the window governs; an operation set to false may start at any time.")
    @Default("{}")
    AppliesTo appliesTo,
    @JsonPropertyDescription("Days and hours of a Custom window.")
    WindowDetails windowDetails) {

  /** Window types. */
  public enum Type { Custom, Always, Never }

  @JsonIgnore
  public Type type() {
    if (replacementWindowType == null) {
      return Type.Always;
    }
    return switch (replacementWindowType.toLowerCase(Locale.ROOT)) {
      case "custom" -> Type.Custom;
      case "never" -> Type.Never;
      case "always" -> Type.Always;
      default -> throw new IllegalArgumentException("replacementWindowType must be Custom, Always or Never");
    };
  }

  /** Which operations a replacement window governs. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record AppliesTo(
      @JsonPropertyDescription("Pod eviction for bin-packing and robust distribution.")
      @Default("true")
      Boolean harnessPodEviction,
      @JsonPropertyDescription("Node consolidation (empty, under-used and spot-to-spot).")
      @Default("true")
      Boolean consolidation,
      @JsonPropertyDescription("Reverse fallback from on-demand to spot.")
      @Default("true")
      Boolean reverseFallback) {
  }
}
