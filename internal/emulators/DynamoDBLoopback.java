// DynamoDBLoopback starts DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local has a -port option but no bind address: its Jetty server listens on
// every interface. payhook's servers bind loopback only, so this launcher (run by the
// Java single-file source launcher, no build step) creates the server exactly as
// DynamoDB Local's own ServerRunner does, sets the Jetty connector's host to
// 127.0.0.1 and starts it. Arguments are DynamoDB Local's own (-inMemory -port N ...).
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLoopback {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        int bound = 0;
        for (Connector c : jetty.getConnectors()) {
            if (c instanceof ServerConnector) {
                ((ServerConnector) c).setHost("127.0.0.1");
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("DynamoDB Local has no ServerConnector to bind to 127.0.0.1");
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on 127.0.0.1");
        proxy.join();
    }
}
