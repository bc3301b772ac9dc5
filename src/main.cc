#include "cli/app.h"

int main(int argc, char** argv) { return dbsplit::cli::runMain(argc, argv); }
