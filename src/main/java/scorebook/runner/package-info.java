/**
 * Running eval suites: suite files, targets, scorers, rerun / new run / stop, live row events and the run command.
 */
package scorebook.runner;
