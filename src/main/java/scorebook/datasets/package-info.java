/**
 * User datasets: named collections of JSON rows kept in SQLite, each with an optional adapter that turns its
 * rows into usage rows (standard fields and labelled extra metrics).
 */
package scorebook.datasets;
