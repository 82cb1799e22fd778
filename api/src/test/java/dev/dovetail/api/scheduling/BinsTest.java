package dev.dovetail.api.scheduling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The search for the next bin with room skips blocks of bins, and must find exactly what a plain scan finds. */
class BinsTest {
  /** The plain scan: the first bin from {@code from} on with room for all three. */
  private static int scan(long[][] room, int from, Resources r) {
    for (int b = from; b < room.length; b++) {
      if (r.cpuMillis() <= room[b][0] && r.memoryBytes() <= room[b][1] && r.pods() <= room[b][2]) {
        return b;
      }
    }
    return -1;
  }

  @Property(tries = 200)
  void theNextBinWithRoomIsThePlainScans(@ForAll @IntRange(min = 1, max = 700) int count, @ForAll long seed) {
    Random random = new Random(seed);
    Bins bins = new Bins(bin -> Requirements.NONE);
    long[][] room = new long[count][];
    for (int b = 0; b < count; b++) {
      room[b] = new long[] {random.nextInt(4000), random.nextInt(16) * 1024L * 1024 * 1024, random.nextInt(30)};
      assertThat(bins.add(room[b][0], room[b][1], room[b][2])).isEqualTo(b);
    }
    for (int step = 0; step < 300; step++) {
      if (random.nextBoolean()) {
        // Room shrinks as pods land (a new claim's room is set once it holds its first pod).
        int b = random.nextInt(count);
        room[b] = new long[] {random.nextInt((int) room[b][0] + 1), (long) (random.nextDouble() * room[b][1]), random.nextInt((int) room[b][2] + 1)};
        bins.room(b, room[b][0], room[b][1], room[b][2]);
      }
      Resources r = Resources.of("cpu", random.nextInt(4000) + "m", "memory", random.nextInt(16) + "Gi", "pods", "1");
      int from = random.nextInt(count + 1);
      assertThat(bins.nextMayFit(from, r)).as("from %d for %s", from, r).isEqualTo(scan(room, from, r));
    }
  }
}
