/**
 * Eval results: sessions, runs, result rows and scores, score chips and totals from SQL views, exports, and the eval-results API.
 */
package scorebook.evals;
