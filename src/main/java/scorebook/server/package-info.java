/**
 * Web plumbing shared by every feature: configuration, JSON, the error envelope, static files, command-line options.
 */
package scorebook.server;
