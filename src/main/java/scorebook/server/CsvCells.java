package scorebook.server;

/**
 * Spreadsheet-safe CSV text cells, for every export: a cell starting with = + - @ tab or CR would be
 * run as a formula, so it gets a leading {@code '}; an import that reads our own export takes it off.
 */
public final class CsvCells {
    private CsvCells() {
    }

    public static String safe(String cell) {
        return !cell.isEmpty() && formulaStart(cell.charAt(0)) ? "'" + cell : cell;
    }

    /** Undoes {@link #safe} on a text cell read back. */
    public static String unsafe(String cell) {
        return cell.length() >= 2 && cell.charAt(0) == '\'' && formulaStart(cell.charAt(1)) ? cell.substring(1) : cell;
    }

    /** Whether a cell starting with {@code c} would be run as a formula by a spreadsheet. */
    public static boolean formulaStart(char c) {
        return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
    }
}
