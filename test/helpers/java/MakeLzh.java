// Writes one LHA archive with Debian's jLHA library (libjlha-java), for methods Debian's lha
// front end does not offer (-lh1-, -lh2-, -lh3-): java MakeLzh.java OUT METHOD LEVEL NAME FILE.
// Run by test/helpers/format-writers.ts with the JDK's single-file source launcher.
// LhaRetainedOutputStream on a RandomAccessFile, not LhaOutputStream on a plain stream: when -lh1-
// does not shrink the data, jLHA stores it (-lh0-) instead, and LhaOutputStream's in-memory
// temporary then leaves stray bytes of the compressed attempt before the end mark in about one
// stored member in twenty (7-Zip: "Headers Error"); the retained stream rewrites the file exactly.
import jp.gr.java_conf.dangan.util.lha.LhaHeader;
import jp.gr.java_conf.dangan.util.lha.LhaRetainedOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Paths;

public class MakeLzh {
  public static void main(String[] args) throws Exception {
    byte[] data = Files.readAllBytes(Paths.get(args[4]));
    try (LhaRetainedOutputStream out = new LhaRetainedOutputStream(new RandomAccessFile(args[0], "rw"))) {
      LhaHeader header = new LhaHeader(args[3]);
      header.setCompressMethod(args[1]);
      header.setHeaderLevel(Integer.parseInt(args[2]));
      header.setOriginalSize(data.length);
      out.putNextEntry(header);
      out.write(data);
      out.closeEntry();
    }
  }
}
