package scorebook.evals;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;

/**
 * Text the way the original (Python) tool prints values in its CSV and Markdown exports: JSON with
 * {@code ", "} and {@code ": "} separators and non-ASCII escaped ({@code json.dumps}), and floats as
 * {@code repr} does ({@code 1.0}, {@code 9.8e-05}).
 */
final class PyJson {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII).disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE).build();
    private static final JsonFactory READER = new JsonFactory();

    private PyJson() {
    }

    /** Re-prints stored JSON text as Python's {@code json.dumps} would. */
    static String dumps(String json) {
        if ("null".equals(json)) {
            return "null";
        }
        StringWriter w = new StringWriter(json.length() + 16);
        try (JsonParser p = READER.createParser(json); JsonGenerator g = FACTORY.createGenerator(w)) {
            g.setPrettyPrinter(new Spaced());
            p.nextToken();
            g.copyCurrentStructure(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /** Python's {@code repr(float)}: shortest digits, exponent form below 1e-4 or from 1e16. */
    static String repr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exponent = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            int e = Math.abs(exponent);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" + e : String.valueOf(e));
        }
        String plain = bd.toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    /** Python's default separators on one line. */
    private static final class Spaced extends MinimalPrettyPrinter {
        @Override
        public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(": ");
        }

        @Override
        public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }

        @Override
        public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
            g.writeRaw(", ");
        }
    }
}
