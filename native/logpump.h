/* The log pump's Node-API functions (logpump.c), added to the addon's exports by spawn.c. */
#ifndef CEJOBS_LOGPUMP_H
#define CEJOBS_LOGPUMP_H
#include <node_api.h>
void logpump_register(napi_env env, napi_value exports);
#endif
