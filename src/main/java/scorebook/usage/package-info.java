/**
 * Usage rows: one per model call from any feature, written off the hot path in batches.
 */
package scorebook.usage;
