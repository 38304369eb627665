/**
 * The SQLite file: connections, the single write path and the numbered migrations in schema/.
 */
package scorebook.store;
