package scorebook.evals;

import java.security.SecureRandom;
import java.util.List;

/** Random {@code adjective-noun} run names (e.g. {@code frosty-reef}) for runs created without one. */
public final class FriendlyNames {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final List<String> ADJECTIVES = List.of("amber", "bold", "brave", "bright", "calm", "clever", "crisp",
            "eager", "fancy", "frosty", "gentle", "golden", "happy", "jolly", "keen", "lively", "lucky", "mellow", "misty",
            "noble", "proud", "quick", "quiet", "rapid", "shiny", "silent", "sunny", "swift", "tidy", "witty");
    private static final List<String> NOUNS = List.of("bear", "brook", "cedar", "cloud", "comet", "coral", "dune", "falcon",
            "fern", "field", "forest", "harbor", "hill", "lake", "maple", "meadow", "moon", "otter", "pine", "planet",
            "reef", "river", "robin", "sparrow", "star", "stone", "tide", "valley", "willow", "wolf");

    private FriendlyNames() {
    }

    public static String random() {
        return ADJECTIVES.get(RANDOM.nextInt(ADJECTIVES.size())) + "-" + NOUNS.get(RANDOM.nextInt(NOUNS.size()));
    }
}
