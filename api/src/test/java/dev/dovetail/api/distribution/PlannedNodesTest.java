package dev.dovetail.api.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dovetail.api.DovetailLabels;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class PlannedNodesTest {
  @Property(tries = 200)
  void theAnnotationRoundTrips(@ForAll @Size(max = 8) Map<@AlphaChars @StringLength(min = 1, max = 12) String, @IntRange(min = 1, max = 500) Integer> nodes) {
    assertThat(PodFacts.plannedNodes(PodFacts.plannedNodesAnnotation(new LinkedHashMap<>(nodes)))).isEqualTo(nodes);
  }

  @Test
  void handEditedValuesAreReadLeniently() {
    assertThat(PodFacts.plannedNodes(null)).isEmpty();
    assertThat(PodFacts.plannedNodes("  ")).isEmpty();
    assertThat(PodFacts.plannedNodes("a, b=3 ,c=x,d=0,=4,e=-1")).containsOnly(Map.entry("a", 1), Map.entry("b", 3));
  }

  @Test
  void podFactsReadTheHintFromThePod() {
    PodFacts facts = PodFacts.of(new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").withUid("u")
        .addToAnnotations(DovetailLabels.PLANNED_NODES, "n1=2,n2=1").endMetadata().build());
    assertThat(facts.plannedNodes()).containsOnly(Map.entry("n1", 2), Map.entry("n2", 1));
    assertThat(PodFacts.of(new PodBuilder().withNewMetadata().withName("q").withNamespace("ns").endMetadata().build()).plannedNodes()).isEmpty();
  }
}
