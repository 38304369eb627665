package scorebook.metrics;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Prometheus text exposition format 0.0.4, written as UTF-8 into one byte buffer that the service reuses from
 * scrape to scrape (it grows to the largest text once): HELP and TYPE lines, then the samples; histograms as
 * {@code _bucket}, {@code _sum} and {@code _count}; label values escaped ({@code \\}, {@code \"}, {@code \n}).
 * Whole numbers are written digit by digit, and label values that need no escaping are copied as they are, so a
 * scrape allocates nothing per sample.
 */
final class TextFormat implements Exposition {
    private byte[] buf;
    private int len;
    private String family;

    TextFormat(int initialSize) {
        this.buf = new byte[initialSize];
    }

    /** Empties the buffer for the next scrape, keeping its size. */
    TextFormat reset() {
        len = 0;
        family = null;
        return this;
    }

    byte[] buffer() {
        return buf;
    }

    int length() {
        return len;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    @Override
    public String toString() {
        return new String(buf, 0, len, StandardCharsets.UTF_8);
    }

    @Override
    public void family(String name, String type, String help) {
        family = name;
        ascii("# HELP ").ascii(name).put(' ');
        text(help.indexOf('\\') < 0 && help.indexOf('\n') < 0 ? help : help.replace("\\", "\\\\").replace("\n", "\\n"));
        ascii("\n# TYPE ").ascii(name).put(' ').ascii(type).put('\n');
    }

    @Override
    public void sample(double value) {
        ascii(family).put(' ');
        end(value);
    }

    @Override
    public void sample(double value, String n1, String v1) {
        ascii(family).put('{').label(n1, v1).ascii("} ");
        end(value);
    }

    @Override
    public void sample(double value, String n1, String v1, String n2, String v2) {
        ascii(family).put('{').label(n1, v1).put(',').label(n2, v2).ascii("} ");
        end(value);
    }

    @Override
    public void sample(double value, String n1, String v1, String n2, String v2, String n3, String v3) {
        ascii(family).put('{').label(n1, v1).put(',').label(n2, v2).put(',').label(n3, v3).ascii("} ");
        end(value);
    }

    @Override
    public void histogram(HistogramSeries series) {
        byte[] lines = series.lines();
        room(lines.length);
        System.arraycopy(lines, 0, buf, len, lines.length);
        len += lines.length;
    }

    /** One histogram's _bucket, _sum and _count lines ({@code labels} already escaped and joined). */
    void histogramLines(String name, String labels, Buckets.Snapshot h) {
        String[] le = h.le();
        long[] cumulative = h.cumulative();
        for (int i = 0; i < cumulative.length; i++) {
            ascii(name).ascii("_bucket{");
            if (!labels.isEmpty()) {
                text(labels).put(',');
            }
            ascii("le=\"").ascii(le[i]).ascii("\"} ").number(cumulative[i]).put('\n');
        }
        ascii(name).ascii("_sum");
        if (!labels.isEmpty()) {
            put('{').text(labels).put('}');
        }
        put(' ');
        end(h.sum());
        ascii(name).ascii("_count");
        if (!labels.isEmpty()) {
            put('{').text(labels).put('}');
        }
        put(' ').number(h.count()).put('\n');
    }

    private void end(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            number((long) value);
        } else {
            ascii(number(value));
        }
        put('\n');
    }

    private TextFormat label(String name, String value) {
        ascii(name).ascii("=\"");
        return text(escapeLabel(value)).put('"');
    }

    private TextFormat number(long v) {
        if (v < 0) {
            put('-');
            if (v == Long.MIN_VALUE) {
                return ascii(Long.toString(v).substring(1));
            }
            v = -v;
        }
        room(20);
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) {
            digits++;
        }
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        len += digits;
        return this;
    }

    /** A string known to be ASCII (names, types, bounds). */
    private TextFormat ascii(String s) {
        int n = s.length();
        room(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    /** Any string, as UTF-8. */
    private TextFormat text(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (s.charAt(i) >= 0x80) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                room(b.length);
                System.arraycopy(b, 0, buf, len, b.length);
                len += b.length;
                return this;
            }
        }
        return ascii(s);
    }

    private TextFormat put(char c) {
        room(1);
        buf[len++] = (byte) c;
        return this;
    }

    private void room(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }

    /** A label value: backslash, double quote and line feed escaped, as the format asks (the same string when clean). */
    static String escapeLabel(String v) {
        if (v == null) {
            return "";
        }
        if (v.indexOf('\\') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0) {
            return v;
        }
        StringBuilder sb = new StringBuilder(v.length() + 8);
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '"' -> sb.append("\\\"");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Whole numbers without a fraction; others as Java prints doubles (which Prometheus parses). */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
