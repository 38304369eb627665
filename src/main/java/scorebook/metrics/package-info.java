/** Operations metrics: request counters, model-call histograms and live gauges, as Prometheus text and JSON. */
package scorebook.metrics;
