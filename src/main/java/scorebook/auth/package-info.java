/**
 * Users, API keys and the dashboard login: who a request acts for, and the checks that keep other web pages and users out.
 */
package scorebook.auth;
