// Writes one LHA archive with Debian's jLHA library (libjlha-java), for methods Debian's lha
// front end does not offer (-lh1-, -lh2-, -lh3-): java MakeLzh.java OUT METHOD LEVEL NAME FILE.
// Run by test/helpers/format-writers.ts with the JDK's single-file source launcher.
import jp.gr.java_conf.dangan.util.lha.LhaHeader;
import jp.gr.java_conf.dangan.util.lha.LhaOutputStream;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;

public class MakeLzh {
  public static void main(String[] args) throws Exception {
    byte[] data = Files.readAllBytes(Paths.get(args[4]));
    try (LhaOutputStream out = new LhaOutputStream(new FileOutputStream(args[0]))) {
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
