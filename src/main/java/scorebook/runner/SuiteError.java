package scorebook.runner;

/** A mistake in a suite file, with where it is: reported to the API and the dashboard, never fatal to other suites. */
public record SuiteError(String file, int line, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + message;
    }
}
