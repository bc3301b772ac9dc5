// placeholder: replaced by the implementation of pg_test.h
