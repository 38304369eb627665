package scorebook.evals;

import java.util.List;

/** What the eval path offers before anything ran: the runner's discovered cases as not_started rows. */
@FunctionalInterface
public interface Discovered {
    List<ResultRow> notStarted();

    /** No eval path (scripts post results themselves). */
    Discovered NONE = List::of;
}
