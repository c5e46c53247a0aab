process.stdout.write("virtwork\n");
