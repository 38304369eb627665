package scorebook.runner;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * JUnit XML for CI systems: one testsuite per dataset, one testcase per result; a failing score
 * is a failure, an error result an error, suite mistakes one errored testcase each.
 */
final class JUnitReport {
    /** One finished case. */
    record Entry(Case c, Outcome o) {
        static Entry of(scorebook.evals.ResultRow r) {
            Case c = new Case(r.function(), r.dataset() == null ? "" : r.dataset(), List.of(), null, null, null);
            return new Entry(c, new Outcome(r.output(), r.scores() == null ? List.of() : r.scores(), null, null,
                    r.hasError() ? r.error() : null, r.latency() == null ? 0 : r.latency()));
        }
    }

    private JUnitReport() {
    }

    static void write(Path file, List<Entry> entries, List<SuiteError> suiteErrors) throws IOException {
        Map<String, List<Entry>> byDataset = new LinkedHashMap<>();
        for (Entry e : entries) {
            byDataset.computeIfAbsent(e.c().dataset(), k -> new java.util.ArrayList<>()).add(e);
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"scorebook\">\n");
            for (var suite : byDataset.entrySet()) {
                List<Entry> list = suite.getValue();
                long failures = list.stream().filter(e -> e.o().error() == null && failed(e.o())).count();
                long errors = list.stream().filter(e -> e.o().error() != null).count();
                double time = list.stream().mapToDouble(e -> e.o().latency()).sum();
                w.write(String.format(Locale.ROOT, "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%.3f\">\n",
                        esc(suite.getKey()), list.size(), failures, errors, time));
                for (Entry e : list) {
                    w.write(String.format(Locale.ROOT, "    <testcase classname=\"%s\" name=\"%s\" time=\"%.3f\"",
                            esc(suite.getKey()), esc(e.c().function()), e.o().latency()));
                    if (e.o().error() != null) {
                        w.write(">\n      <error message=\"" + esc(firstLine(e.o().error())) + "\">" + esc(e.o().error()) + "</error>\n    </testcase>\n");
                    } else if (failed(e.o())) {
                        StringBuilder why = new StringBuilder();
                        e.o().scores().stream().filter(s -> Boolean.FALSE.equals(s.passed()))
                                .forEach(s -> why.append(s.key()).append(s.notes() == null ? "" : ": " + s.notes()).append('\n'));
                        w.write(">\n      <failure message=\"" + esc(firstLine(why.toString())) + "\">" + esc(why.toString().strip())
                                + "</failure>\n    </testcase>\n");
                    } else {
                        w.write("/>\n");
                    }
                }
                w.write("  </testsuite>\n");
            }
            if (!suiteErrors.isEmpty()) {
                w.write("  <testsuite name=\"suite files\" tests=\"" + suiteErrors.size() + "\" failures=\"0\" errors=\""
                        + suiteErrors.size() + "\">\n");
                for (SuiteError e : suiteErrors) {
                    w.write("    <testcase classname=\"suite files\" name=\"" + esc(e.file()) + "\">\n      <error message=\""
                            + esc(e.toString()) + "\"/>\n    </testcase>\n");
                }
                w.write("  </testsuite>\n");
            }
            w.write("</testsuites>\n");
        }
    }

    /** A case fails when any of its scores says passed = false. */
    static boolean failed(Outcome o) {
        return o.scores().stream().anyMatch(s -> Boolean.FALSE.equals(s.passed()));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> {
                    if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
                        b.append(' ');
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }
}
