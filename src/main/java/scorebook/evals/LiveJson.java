package scorebook.evals;

/** The JSON a run's live stream sends besides its rows, for the runner, which publishes it. */
public final class LiveJson {
    private LiveJson() {
    }

    /** The "totals" event: {@code {"run_id", "totals": {..., "statuses": {...}}, "chips": [...]}} of the run now. */
    public static String totals(EvalStore.RunView view) {
        return RunJson.totalsEvent(view.run(), view.live());
    }
}
